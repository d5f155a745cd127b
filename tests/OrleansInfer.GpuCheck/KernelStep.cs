using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.GpuCheck;

/// <summary>Every kernel on random inputs of several shapes against double precision; the worst relative error per kernel.</summary>
public static class KernelStep
{
    /// <summary>Relative error below which a kernel passes (f32 accumulation over K up to a few thousand).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Named checks; the same list the unit tests run (with smaller shapes there).</summary>
    public static IEnumerable<(string Kernel, string Shape, Func<KernelHarness, double> Check)> All(bool large)
    {
        var k = large ? 4096 : 600; // 600: both the two-chunk loop and the single chunk of the GEMV run
        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K })
        {
            var t = GgmlTypeInfo.Name(type);
            // Packed formats take 32 values per lane: K past 2 × 32 lanes × 32 runs their two-chunk loop and a tail.
            var kq = type switch
            {
                GgmlType.F32 or GgmlType.F16 => k + 3,
                GgmlType.Q8_0 => k / 32 * 32 + 32,
                GgmlType.Q4_0 => large ? 4128 : 2080,
                _ => large ? 4352 : 2304,
            };
            var dim = GgmlTypeInfo.IsKQuant(type) ? 256 : 64;
            var kt = large || type is not (GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K) ? kq : type == GgmlType.Q4_0 ? 608 : 768; // the emulated tiles are slow
            yield return ($"gemv {t}", $"M=1 N=67 K={kq}", h => KernelChecks.Gemv(h, type, 1, 67, kq, MatMulMode.Store, 1));
            yield return ($"gemv {t} M=2", $"M=2 N=19 K={kq}", h => KernelChecks.Gemv(h, type, 2, 19, kq, MatMulMode.Store, 18));
            yield return ($"gemv {t} +residual", $"M=4 N=33 K={kq}", h => KernelChecks.Gemv(h, type, 4, 33, kq, MatMulMode.Add, 2));
            yield return ($"gemv {t} swiglu", $"M=3 N=40 K={kq}", h => KernelChecks.Gemv(h, type, 3, 40, kq, MatMulMode.SwiGlu, 3));
            yield return ($"gemv {t} geglu", $"M=2 N=24 K={kq}", h => KernelChecks.Gemv(h, type, 2, 24, kq, MatMulMode.GeGlu, 19));
            yield return ($"tiled {t}", $"M=70 N=65 K={kt}", h => KernelChecks.Tiled(h, type, 70, 65, kt, MatMulMode.Store, 4));
            yield return ($"tiled {t} +residual", $"M=5 N=130 K={kt}", h => KernelChecks.Tiled(h, type, 5, 130, kt, MatMulMode.Add, 5));
            yield return ($"embedding {t}", $"vocab 50, dim {dim}, 9 tokens", h => KernelChecks.Embedding(h, type, 50, dim, 9, 6));
        }
        yield return ("rmsnorm", "3 rows of 100", h => KernelChecks.RmsNorm(h, 3, 100, false, 7));
        yield return ("rmsnorm gather", "4 rows of 4096", h => KernelChecks.RmsNorm(h, 4, 4096, true, 8));
        yield return ("swiglu", "7 tokens, hidden 172", h => KernelChecks.SwiGlu(h, 7, 172, 10));
        yield return ("geglu", "7 tokens, hidden 172", h => KernelChecks.SwiGlu(h, 7, 172, 20, MatMulMode.GeGlu));
        yield return ("embedding scaled", "vocab 50, dim 48, 9 tokens, x sqrt(48)", h => KernelChecks.Embedding(h, GgmlType.F16, 50, 48, 9, 21, MathF.Sqrt(48)));
        yield return ("head norm", "5 tokens, 4 heads, 2 kv, hd 40", h => KernelChecks.HeadNorm(h, 5, 4, 2, 40, 22));
        yield return ("bias add", "6 tokens, 70 of 77 columns", h => KernelChecks.BiasAdd(h, 6, 70, 77, 23));
        yield return ("softcap", "300 values, cap 30", h => KernelChecks.Softcap(h, 300, 30f, 24));
        yield return ("rmsnorm accumulate", "3 rows of 100", h => KernelChecks.RmsNormAccumulate(h, 3, 100, 25));
        foreach (var kv in new[] { KvCacheDataType.F32, KvCacheDataType.F16, KvCacheDataType.Q8_0 })
        {
            // KV kernels per pool encoding; q8_0 needs heads of whole 32-value blocks.
            var t = KvCacheDataTypes.Name(kv);
            var (hd, suffix) = kv == KvCacheDataType.F32 ? (16, "") : (32, $" {t}");
            var ropeShape = kv == KvCacheDataType.Q8_0 ? (HeadDim: 64, Pairs: 20) : (HeadDim: 16, Pairs: 6);
            yield return ($"rope + kv write{suffix}", $"5 tokens, 4 heads, 2 kv, hd {ropeShape.HeadDim}, {ropeShape.Pairs} pairs", h => KernelChecks.RopeKvWrite(h, kv, 5, 4, 2, ropeShape.HeadDim, ropeShape.Pairs, 9));
            foreach (var g in new[] { 1, 2, 4 })
            {
                yield return ($"attention prefill gqa {g}{suffix}", $"3 seqs, chunks of 5/1/9, bs 4, hd {hd}", h => KernelChecks.PagedAttention(h, kv, [5, 11, 37], [5, 1, 9], 4, g, hd, 4, 0, 11 + g));
                yield return ($"attention decode split gqa {g}{suffix}", "contexts 70/100, 32 per split", h => KernelChecks.PagedAttention(h, kv, [70, 100], [1, 1], 4, g, 32, 16, 32, 14 + g));
            }
            yield return ($"block copy{suffix}", "2 copies, 3 layers", h => KernelChecks.BlockCopy(h, kv, 3, 6, 64, [(1, 4), (2, 5)], 17));
            // The other families: NEOX pairs (straddling q8_0 blocks: pairs (p, p + 20)) with a RoPE scale; a sliding
            // window shorter than the contexts with soft-capped scores and another score scale, unsplit and split.
            yield return ($"rope neox + kv write{suffix}", $"5 tokens, 4 heads, 2 kv, hd {ropeShape.HeadDim}, {ropeShape.Pairs} pairs, scale 1.2", h => KernelChecks.RopeKvWrite(h, kv, 5, 4, 2, ropeShape.HeadDim, ropeShape.Pairs, 26, neox: true, scale: 1.2f));
            yield return ($"attention prefill window 6 softcap{suffix}", $"3 seqs, chunks of 5/1/9, bs 4, hd {hd}", h => KernelChecks.PagedAttention(h, kv, [5, 11, 37], [5, 1, 9], 4, 2, hd, 4, 0, 27, window: 6, softcap: 5f, scale: 0.3f));
            yield return ($"attention decode split window 45{suffix}", "contexts 70/100, 32 per split", h => KernelChecks.PagedAttention(h, kv, [70, 100], [1, 1], 4, 2, 32, 16, 32, 28, window: 45));
        }
    }

    public static int Run(Options o, Results results)
    {
        using var h = new KernelHarness(o.Device);
        Console.WriteLine($"kernel checks on {h.DeviceName} (relative L2 error against double precision, pass below {Tolerance:G2})");
        var failed = 0;
        foreach (var (kernel, shape, check) in All(large: !o.Quick))
        {
            var err = check(h);
            h.Reset();
            var ok = err < Tolerance;
            if (!ok) failed++;
            Console.WriteLine($"  {kernel,-32} {shape,-42} {err,10:E2}  {(ok ? "ok" : "FAIL")}");
            results.Add("kernel", kernel, $"rel err {err:E2} ({shape})", ok ? "ok" : "FAIL");
        }
        return failed == 0 ? 0 : 1;
    }
}
