using System.Runtime.Intrinsics.X86;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Products of K-quant weight rows with Q8_K activation rows:
/// y[t * ldy + r] (+)= dot(W row r, X row t) for r in [0, rows) and t in [0, tokens).
/// W rows are <c>rowBytes</c> apart from <c>w</c> (ggml's block layout as in the file); X rows are
/// <c>xRowBytes</c> apart (<see cref="Q8KActivations"/>); k is a multiple of 256. Each weight row is read once
/// for all the tokens (several sequences per weight pass).
/// </summary>
/// <remarks>
/// The integer part is exact and the float part is ggml's: per super-block, the weight's f16 scale times the
/// activation's scale times the exact scaled integer sum, minus (for Q4_K/Q5_K) dmin times the activation's
/// scale times the mins dotted with the block sums; Q6_K's offset of 32 is taken off with the block sums too.
/// A weight super-block is unpacked once per group of up to four tokens; rows loop outside token groups.
/// </remarks>
internal static unsafe partial class KQuantDot
{
    public static void Q4K(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, bool accumulate)
        => Run(Kernels(QuantType.Q4K), w, rowBytes, rows, x, xRowBytes, tokens, k, y, ldy, accumulate);

    public static void Q5K(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, bool accumulate)
        => Run(Kernels(QuantType.Q5K), w, rowBytes, rows, x, xRowBytes, tokens, k, y, ldy, accumulate);

    public static void Q6K(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, bool accumulate)
        => Run(Kernels(QuantType.Q6K), w, rowBytes, rows, x, xRowBytes, tokens, k, y, ldy, accumulate);

    private enum QuantType { Q4K, Q5K, Q6K }

    /// <summary>A kernel for a fixed group of tokens: rows weight rows, each of <c>blocks</c> super-blocks.</summary>
    private unsafe struct KernelSet
    {
        public delegate*<byte*, long, int, byte*, long, int, float*, int, bool, void> One, Two, Three, Four;

        public readonly delegate*<byte*, long, int, byte*, long, int, float*, int, bool, void> For(int tokens) => tokens switch
        {
            1 => One,
            2 => Two,
            3 => Three,
            _ => Four,
        };
    }

    private static void Run(KernelSet kernels, byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, bool accumulate)
    {
        if (k <= 0 || k % KQuantBlocks.QK != 0) throw new ArgumentOutOfRangeException(nameof(k), k, "K-quant rows are whole super-blocks of 256 weights");
        if (rows <= 0 || tokens <= 0) return;
        var blocks = k / KQuantBlocks.QK;
        if (tokens <= 4)
        {
            // Decode: one pass over all the rows serves every sequence.
            kernels.For(tokens)(w, rowBytes, rows, x, xRowBytes, blocks, y, ldy, accumulate);
            return;
        }
        // Prefill: each row stays in L1 while the token groups pass over it.
        for (var r = 0; r < rows; r++)
        {
            for (var t = 0; t < tokens; t += 4)
            {
                var group = Math.Min(4, tokens - t);
                kernels.For(group)(w + r * rowBytes, rowBytes, 1, x + t * xRowBytes, xRowBytes, blocks, y + (long)t * ldy + r, ldy, accumulate);
            }
        }
    }

    /// <summary>The kernels of <see cref="Simd.Level"/>, read once per call. AVX-VNNI is its own CPU feature (AVX-512
    /// CPUs may lack it, as the development machine does), so a level set to it without the feature runs AVX2.</summary>
    private static KernelSet Kernels(QuantType type) => (Simd.Level is SimdLevel.AvxVnni && !AvxVnni.IsSupported ? SimdLevel.Avx2 : Simd.Level, type) switch
    {
        (SimdLevel.Avx512, QuantType.Q4K) => new() { One = &Q4KAvx512<OneToken>, Two = &Q4KAvx512<TwoTokens>, Three = &Q4KAvx512<ThreeTokens>, Four = &Q4KAvx512<FourTokens> },
        (SimdLevel.Avx512, QuantType.Q5K) => new() { One = &Q5KAvx512<OneToken>, Two = &Q5KAvx512<TwoTokens>, Three = &Q5KAvx512<ThreeTokens>, Four = &Q5KAvx512<FourTokens> },
        (SimdLevel.Avx512, QuantType.Q6K) => new() { One = &Q6KAvx512<OneToken>, Two = &Q6KAvx512<TwoTokens>, Three = &Q6KAvx512<ThreeTokens>, Four = &Q6KAvx512<FourTokens> },
        (SimdLevel.AvxVnni, QuantType.Q4K) => new() { One = &Q4KAvx2<OneToken, VnniScaleAdd>, Two = &Q4KAvx2<TwoTokens, VnniScaleAdd>, Three = &Q4KAvx2<ThreeTokens, VnniScaleAdd>, Four = &Q4KAvx2<FourTokens, VnniScaleAdd> },
        (SimdLevel.AvxVnni, QuantType.Q5K) => new() { One = &Q5KAvx2<OneToken, VnniScaleAdd>, Two = &Q5KAvx2<TwoTokens, VnniScaleAdd>, Three = &Q5KAvx2<ThreeTokens, VnniScaleAdd>, Four = &Q5KAvx2<FourTokens, VnniScaleAdd> },
        (SimdLevel.AvxVnni, QuantType.Q6K) => new() { One = &Q6KAvx2<OneToken, VnniScaleAdd>, Two = &Q6KAvx2<TwoTokens, VnniScaleAdd>, Three = &Q6KAvx2<ThreeTokens, VnniScaleAdd>, Four = &Q6KAvx2<FourTokens, VnniScaleAdd> },
        (SimdLevel.Avx2, QuantType.Q4K) => new() { One = &Q4KAvx2<OneToken, Avx2ScaleAdd>, Two = &Q4KAvx2<TwoTokens, Avx2ScaleAdd>, Three = &Q4KAvx2<ThreeTokens, Avx2ScaleAdd>, Four = &Q4KAvx2<FourTokens, Avx2ScaleAdd> },
        (SimdLevel.Avx2, QuantType.Q5K) => new() { One = &Q5KAvx2<OneToken, Avx2ScaleAdd>, Two = &Q5KAvx2<TwoTokens, Avx2ScaleAdd>, Three = &Q5KAvx2<ThreeTokens, Avx2ScaleAdd>, Four = &Q5KAvx2<FourTokens, Avx2ScaleAdd> },
        (SimdLevel.Avx2, QuantType.Q6K) => new() { One = &Q6KAvx2<OneToken, Avx2ScaleAdd>, Two = &Q6KAvx2<TwoTokens, Avx2ScaleAdd>, Three = &Q6KAvx2<ThreeTokens, Avx2ScaleAdd>, Four = &Q6KAvx2<FourTokens, Avx2ScaleAdd> },
        (_, QuantType.Q4K) => new() { One = &KQuantScalar.Q4K<OneToken>, Two = &KQuantScalar.Q4K<TwoTokens>, Three = &KQuantScalar.Q4K<ThreeTokens>, Four = &KQuantScalar.Q4K<FourTokens> },
        (_, QuantType.Q5K) => new() { One = &KQuantScalar.Q5K<OneToken>, Two = &KQuantScalar.Q5K<TwoTokens>, Three = &KQuantScalar.Q5K<ThreeTokens>, Four = &KQuantScalar.Q5K<FourTokens> },
        _ => new() { One = &KQuantScalar.Q6K<OneToken>, Two = &KQuantScalar.Q6K<TwoTokens>, Three = &KQuantScalar.Q6K<ThreeTokens>, Four = &KQuantScalar.Q6K<FourTokens> },
    };
}
