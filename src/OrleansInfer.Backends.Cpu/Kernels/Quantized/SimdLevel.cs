using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Instruction sets the quantized kernels have paths for, best last. .NET 10 exposes VNNI only as AVX-VNNI
/// (VEX, 256-bit); on AVX-512 CPUs without it the 512-bit path multiplies bytes with AVX-512BW
/// (vpmaddubsw + vpmaddwd), as llama.cpp does on such CPUs.
/// </summary>
internal enum SimdLevel
{
    Scalar,
    Avx2,
    AvxVnni,
    Avx512,
}

/// <summary>
/// The level the kernels use: the best the CPU has, lowered by tests (and <c>ORLEANS_INFER_SIMD</c>) so every path
/// this CPU can run is checked against the scalar one. Kernels read it once per tile, never in an inner loop.
/// </summary>
internal static class Simd
{
    public static SimdLevel Detected { get; } = Detect();

    public static SimdLevel Level { get; set; } = Configured();

    private static SimdLevel Detect()
    {
        if (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated) return SimdLevel.Avx512;
        if (AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported) return SimdLevel.AvxVnni;
        if (Avx2.IsSupported && Fma.IsSupported) return SimdLevel.Avx2;
        return SimdLevel.Scalar;
    }

    private static SimdLevel Configured()
    {
        var name = Environment.GetEnvironmentVariable("ORLEANS_INFER_SIMD");
        return Enum.TryParse<SimdLevel>(name, ignoreCase: true, out var level) && level <= Detected ? level : Detected;
    }
}
