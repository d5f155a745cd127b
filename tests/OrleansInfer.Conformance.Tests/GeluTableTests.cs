using System.Runtime.InteropServices;
using LLama.Native;
using OrleansInfer.Backends.Cpu.Kernels;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// Our GELU (gemma's GeGLU) is llama.cpp's CPU GELU: ggml-cpu rounds the input to f16 and reads f16(gelu(x)) from a table
/// it fills at ggml_cpu_init. Every one of the 65,536 entries llama.cpp uses (finite halves strictly between -10 and 10)
/// equals ours, read from the ggml_table_gelu_f16 that LLamaSharp's libggml-cpu.so holds.
/// </summary>
public sealed unsafe class GeluTableTests
{
    [Fact]
    public void OurGeluTableIsLlamaCpps()
    {
        var native = (ushort*)NativeLibrary.GetExport(CpuLibrary(), "ggml_table_gelu_f16");
        var compared = 0;
        for (var i = 0; i < 1 << 16; i++)
        {
            var x = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            if (!float.IsFinite(x) || x <= -10f || x >= 10f) continue;
            var theirs = (float)BitConverter.UInt16BitsToHalf(native[i]);
            var ours = Gelu.Of(x);
            Assert.True(ours.Equals(theirs), $"gelu of the half 0x{i:x4} ({x}): llama.cpp's table holds {theirs}, ours {ours}");
            compared++;
        }
        Assert.True(compared > 30000, $"compared {compared} table entries (expected every half in (-10, 10))");
    }

    /// <summary>libggml-cpu.so as LLamaSharp mapped it (the build for this CPU), its tables filled by ggml_cpu_init.</summary>
    private static nint CpuLibrary()
    {
        NativeApi.llama_empty_call();
        var path = File.ReadLines("/proc/self/maps")
            .Where(l => l.Contains('/', StringComparison.Ordinal))
            .Select(l => l[l.IndexOf('/', StringComparison.Ordinal)..])
            .FirstOrDefault(p => Path.GetFileName(p) == "libggml-cpu.so") ?? throw new InvalidOperationException("LLamaSharp loaded no libggml-cpu.so");
        var library = NativeLibrary.Load(path);
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(library, "ggml_cpu_init"))();
        return library;
    }
}
