using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.GpuCheck;

public static partial class KernelChecks
{
    /// <summary>
    /// RoPE on q (in place) and k, and the k/v write into random KV slots stored as <paramref name="type"/>; later pairs
    /// than RopePairs pass through. Adjacent pairs, or NEOX halves (x[i], x[i + RopePairs]) with <paramref name="neox"/>;
    /// cos/sin multiplied by <paramref name="scale"/> (YaRN/LongRoPE magnitude). The expected k/v rows go through the
    /// same encoding on the host (System.Half, ggml's q8_0 reference quantizer), so any difference is the kernel's.
    /// </summary>
    public static double RopeKvWrite(KernelHarness h, KvCacheDataType type, int tokens, int heads, int kvHeads, int headDim, int ropePairs, int seed,
        bool neox = false, float scale = 1f)
    {
        var rng = new Random(seed);
        int dim = heads * headDim, kvDim = kvHeads * headDim, ld = dim + 2 * kvDim, context = 64, slotsInPool = tokens * 3;
        var qkv = RandomWeights.Gaussian(rng, tokens * ld);
        var positions = Enumerable.Range(0, tokens).Select(_ => rng.Next(context)).ToArray();
        var slots = Enumerable.Range(0, slotsInPool).OrderBy(_ => rng.Next()).Take(tokens).ToArray();
        var cos = new float[context * ropePairs];
        var sin = new float[cos.Length];
        for (var p = 0; p < context; p++)
            for (var i = 0; i < ropePairs; i++)
            {
                var (sv, cv) = MathF.SinCos(p * (1f / MathF.Pow(10000f, 2 * i / (2f * ropePairs))));
                (sin[p * ropePairs + i], cos[p * ropePairs + i]) = (sv * scale, cv * scale);
            }
        var half = (long)slotsInPool * kvDim;
        using var kv = DeviceKvCache.Allocate(h.Accelerator, type, 2 * half);
        kv.Upload(new float[2 * half]);
        var qkvView = h.Upload(qkv);
        var args = new RopeArgs { Heads = heads, KvHeads = kvHeads, HeadDim = headDim, RopePairs = ropePairs, Neox = neox ? 1 : 0, QkvLd = ld, Dim = dim, KvDim = kvDim, KOffset = 0, VOffset = half };
        kv.RopeKvWrite(tokens * (heads + kvHeads) * (headDim / 2), qkvView, h.Upload(positions), h.Upload(slots), h.Upload(cos), h.Upload(sin), args);

        var actual = new List<float>();
        var expected = new List<double>();
        var qkvOut = h.Read(qkvView);
        var kvOut = kv.Download();
        for (var t = 0; t < tokens; t++)
        {
            double[] Rotate(int at)
            {
                var r = new double[headDim];
                for (var i = 0; i < headDim / 2; i++)
                {
                    var (e0, e1) = neox && i < ropePairs ? (i, i + ropePairs) : (2 * i, 2 * i + 1);
                    double a = qkv[at + e0], b = qkv[at + e1];
                    double c = 1, s = 0;
                    if (i < ropePairs)
                    {
                        c = cos[positions[t] * ropePairs + i];
                        s = sin[positions[t] * ropePairs + i];
                    }
                    r[e0] = a * c - b * s;
                    r[e1] = a * s + b * c;
                }
                return r;
            }
            for (var hh = 0; hh < heads; hh++)
            {
                expected.AddRange(Rotate(t * ld + hh * headDim));
                actual.AddRange(qkvOut.AsSpan(t * ld + hh * headDim, headDim).ToArray());
            }
            for (var g = 0; g < kvHeads; g++)
            {
                var slot = (long)slots[t] * kvDim + g * headDim;
                expected.AddRange(Encoded(type, Rotate(t * ld + dim + g * headDim)));
                actual.AddRange(kvOut.AsSpan((int)slot, headDim).ToArray());
                expected.AddRange(Encoded(type, qkv.AsSpan(t * ld + dim + kvDim + g * headDim, headDim).ToArray().Select(v => (double)v).ToArray()));
                actual.AddRange(kvOut.AsSpan((int)(half + slot), headDim).ToArray());
            }
        }
        return RandomWeights.RelativeError(actual.ToArray(), expected.ToArray());
    }

    /// <summary>
    /// Paged attention for several sequences at once: sequence i holds contexts[i] positions, of which the last
    /// newTokens[i] are this step's tokens (a prompt chunk, or 1 for decode); blocks are scattered through the pool.
    /// With splitLength &gt; 0 every context is split (flash-decoding) and reduced. A <paramref name="window"/> &gt; 0 limits
    /// each token to its last window positions (sliding-window layers), <paramref name="softcap"/> &gt; 0 caps the scores
    /// (cap · tanh(score / cap)), and the score scale is <paramref name="scale"/> (1/sqrt(head size) when null).
    /// </summary>
    public static double PagedAttention(KernelHarness h, KvCacheDataType type, int[] contexts, int[] newTokens, int heads, int groupSize, int headDim, int blockSize, int splitLength, int seed,
        int window = 0, float softcap = 0f, float? scale = null)
    {
        var rng = new Random(seed);
        int kvHeads = heads / groupSize, dim = heads * headDim, kvDim = kvHeads * headDim, ld = dim + 2 * kvDim;
        var width = contexts.Max(c => (c + blockSize - 1) / blockSize);
        var blocksInPool = contexts.Sum(c => (c + blockSize - 1) / blockSize) + 3;
        var free = Enumerable.Range(0, blocksInPool).OrderBy(_ => rng.Next()).ToQueue();
        var tables = new int[contexts.Length * width];
        for (var s = 0; s < contexts.Length; s++)
            for (var b = 0; b < (contexts[s] + blockSize - 1) / blockSize; b++) tables[s * width + b] = free.Dequeue();
        var half = (long)blocksInPool * blockSize * kvDim;
        using var pool = DeviceKvCache.Allocate(h.Accelerator, type, 2 * half);
        pool.Upload(RandomWeights.Gaussian(rng, (int)(2 * half)));
        var kv = pool.Download(); // the reference reads the values the pool holds

        var positions = new List<int>();
        var tokenSeq = new List<int>();
        for (var s = 0; s < contexts.Length; s++)
            for (var j = contexts[s] - newTokens[s]; j < contexts[s]; j++)
            {
                positions.Add(j);
                tokenSeq.Add(s);
            }
        var tokens = positions.Count;
        var qkv = RandomWeights.Gaussian(rng, tokens * ld);
        var maxContext = contexts.Max();
        var span = window > 0 ? Math.Min(window, maxContext) : maxContext;
        var splits = splitLength > 0 ? (span + splitLength - 1) / splitLength : 1;
        var sc = scale ?? 1f / MathF.Sqrt(headDim);
        var args = new AttentionArgs
        {
            Tokens = tokens, Heads = heads, GroupSize = groupSize, HeadDim = headDim, QkvLd = ld, KvDim = kvDim, BlockSize = blockSize,
            TableWidth = width, Splits = splits, SplitLength = splitLength > 0 ? splitLength : (span + 31) / 32 * 32,
            Scale = sc, Softcap = softcap, SoftcapInverse = softcap > 0 ? 1f / softcap : 0f, Window = window, KOffset = 0, VOffset = half,
        };
        var output = h.Upload(new float[tokens * dim]);
        var pos = h.Upload(positions.ToArray());
        var partialAcc = h.Upload(new float[tokens * heads * splits * headDim]);
        var partialStats = h.Upload(new float[2 * tokens * heads * splits]);
        var warps = tokens * heads * splits;
        var groupSize2 = PagedAttentionKernel.WarpsPerGroup * h.Accelerator.WarpSize;
        pool.Attention(new KernelConfig((warps + PagedAttentionKernel.WarpsPerGroup - 1) / PagedAttentionKernel.WarpsPerGroup, groupSize2),
            h.Upload(qkv), pos, h.Upload(tokenSeq.ToArray()), h.Upload(tables), output, partialAcc, partialStats, args);
        if (splits > 1)
            h.Kernels.AttentionReduce(new KernelConfig((tokens * heads + AttentionReduceKernel.WarpsPerGroup - 1) / AttentionReduceKernel.WarpsPerGroup, AttentionReduceKernel.WarpsPerGroup * h.Accelerator.WarpSize),
                pos, partialAcc, partialStats, output, args);

        var expected = new double[tokens * dim];
        for (var t = 0; t < tokens; t++)
        {
            var s = tokenSeq[t];
            var n = positions[t] + 1;
            var lo = window > 0 ? Math.Max(0, n - window) : 0; // keys before the window are masked out
            long Slot(int p) => (long)tables[s * width + p / blockSize] * blockSize + p % blockSize;
            for (var hh = 0; hh < heads; hh++)
            {
                var kvh = hh / groupSize * headDim;
                var scores = new double[n];
                for (var p = lo; p < n; p++)
                {
                    double dot = 0;
                    for (var d = 0; d < headDim; d++) dot += (double)qkv[t * ld + hh * headDim + d] * kv[Slot(p) * kvDim + kvh + d];
                    scores[p] = dot * sc;
                    if (softcap > 0) scores[p] = softcap * Math.Tanh(scores[p] / softcap);
                }
                var max = scores.Skip(lo).Max();
                var e = scores.Select((v, p) => p < lo ? 0 : Math.Exp(v - max)).ToArray();
                var sum = e.Sum();
                for (var p = lo; p < n; p++)
                    for (var d = 0; d < headDim; d++) expected[t * dim + hh * headDim + d] += e[p] / sum * kv[half + Slot(p) * kvDim + kvh + d];
            }
        }
        return RandomWeights.RelativeError(h.Read(output), expected);
    }

    /// <summary>Copy-on-write block copies across every layer's keys and values; untouched blocks stay as they were.</summary>
    public static double BlockCopy(KernelHarness h, KvCacheDataType type, int layers, int blocks, int blockFloats, (int Source, int Destination)[] copies, int seed)
    {
        var rng = new Random(seed);
        var halfStride = (long)blocks * blockFloats;
        using var kv = DeviceKvCache.Allocate(h.Accelerator, type, 2 * layers * halfStride);
        kv.Upload(RandomWeights.Gaussian(rng, (int)(2 * layers * halfStride)));
        var pool = kv.Download();
        var pairs = copies.SelectMany(c => new[] { c.Source, c.Destination }).ToArray();
        kv.BlockCopy(copies.Length * 2 * layers * blockFloats, h.Upload(pairs), blockFloats, halfStride, 2 * layers);
        var expected = pool.Select(v => (double)v).ToArray();
        for (var half = 0; half < 2 * layers; half++)
            foreach (var (src, dst) in copies)
                for (var e = 0; e < blockFloats; e++) expected[half * halfStride + (long)dst * blockFloats + e] = pool[half * halfStride + (long)src * blockFloats + e];
        return RandomWeights.RelativeError(kv.Download(), expected);
    }

    /// <summary>A KV row as the pool holds it: rounded to f32, then encoded as <paramref name="type"/> and decoded on the host.</summary>
    private static double[] Encoded(KvCacheDataType type, double[] row)
    {
        var x = row.Select(v => (float)v).ToArray();
        var ggml = type switch { KvCacheDataType.F16 => GgmlType.F16, KvCacheDataType.Q8_0 => GgmlType.Q8_0, _ => GgmlType.F32 };
        var bytes = new byte[GgmlTypeInfo.ByteCount(ggml, x.Length)];
        Quantize.Row(ggml, x, bytes);
        Dequantize.Row(ggml, bytes, x);
        return x.Select(v => (double)v).ToArray();
    }

    private static Queue<int> ToQueue(this IEnumerable<int> values) => new(values);
}
