using System.Runtime.InteropServices;

namespace OrleansInfer.Backends.Cpu;

/// <summary>A 64-byte aligned native float buffer, allocated once and freed on dispose (activations, KV cache, converted weights).</summary>
internal sealed unsafe class NativeBuffer : IDisposable
{
    public NativeBuffer(long length, bool zero = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        Pointer = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length * sizeof(float)), 64);
        if (zero) NativeMemory.Clear(Pointer, (nuint)(length * sizeof(float)));
    }

    public float* Pointer { get; private set; }

    public long Length { get; }

    public Span<float> Span(long offset, int length) => new(Pointer + offset, length);

    public void Dispose()
    {
        if (Pointer != null)
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
