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

    /// <summary>Whether this CPU can run the level's path (AVX-512 CPUs may lack AVX-VNNI: the levels are not nested).</summary>
    public static bool Runs(SimdLevel level) => level switch
    {
        SimdLevel.Avx512 => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        SimdLevel.AvxVnni => AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported,
        SimdLevel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    private static SimdLevel Detect() =>
        Runs(SimdLevel.Avx512) ? SimdLevel.Avx512
        : Runs(SimdLevel.AvxVnni) ? SimdLevel.AvxVnni
        : Runs(SimdLevel.Avx2) ? SimdLevel.Avx2
        : SimdLevel.Scalar;

    private static SimdLevel Configured()
    {
        var name = Environment.GetEnvironmentVariable("ORLEANS_INFER_SIMD");
        return Enum.TryParse<SimdLevel>(name, ignoreCase: true, out var level) && Runs(level) ? level : Detected;
    }
}
