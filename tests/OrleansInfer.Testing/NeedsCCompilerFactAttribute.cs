namespace OrleansInfer.Testing;

/// <summary>A fact that builds native code (<see cref="FakeLibcuda"/>): reported as skipped, saying why, on a machine without a C compiler.</summary>
public sealed class NeedsCCompilerFactAttribute : FactAttribute
{
    public NeedsCCompilerFactAttribute()
    {
        if (FakeLibcuda.Compiler is null) Skip = "needs a C compiler (cc or gcc) on PATH to build a stand-in libcuda";
    }
}
