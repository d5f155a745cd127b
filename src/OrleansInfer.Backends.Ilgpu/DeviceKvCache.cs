using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>
/// The KV pool in device memory, <c>[layer][K | V][block][slot][kv_dim of the layer]</c> values stored as f32, f16 or q8_0
/// (<see cref="IKvStore"/>), with the three kernels that touch it (RoPE + KV write, paged attention, block copy)
/// compiled for that format only.
/// </summary>
internal abstract class DeviceKvCache : IDisposable
{
    private readonly List<MemoryBuffer> _buffers = [];

    protected DeviceKvCache(KvCacheDataType type, long values)
    {
        DataType = type;
        Values = values;
    }

    public KvCacheDataType DataType { get; }

    /// <summary>Values the pool holds (Σ over layers of 2 × blocks × block size × the layer's kv_dim).</summary>
    public long Values { get; }

    /// <summary>Device bytes of the pool.</summary>
    public long Bytes => _buffers.Sum(b => b.LengthInBytes);

    /// <summary>Allocates <paramref name="values"/> values (a multiple of 32 for q8_0) and loads the kernels for <paramref name="type"/>.</summary>
    public static DeviceKvCache Allocate(Accelerator a, KvCacheDataType type, long values) => type switch
    {
        KvCacheDataType.F32 => new Typed<F32Kv>(a, type, values, (c, n) => new F32Kv { Data = c.Allocate<float>(a, n) }),
        KvCacheDataType.F16 => new Typed<F16Kv>(a, type, values, (c, n) => new F16Kv { Bits = c.Allocate<ushort>(a, n) }),
        KvCacheDataType.Q8_0 => values % 32 == 0
            ? new Typed<Q8Kv>(a, type, values, (c, n) => new Q8Kv { Quants = c.Allocate<sbyte>(a, n), Scales = c.Allocate<ushort>(a, n / 32) })
            : throw new ArgumentException($"a q8_0 KV pool holds whole 32-value blocks, not {values} values", nameof(values)),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Every KV kernel instantiation, with whether it is explicitly grouped (for ahead-of-time PTX checks).</summary>
    public static IEnumerable<(MethodInfo Method, bool ExplicitlyGrouped)> EntryPoints()
    {
        foreach (var store in new[] { typeof(F32Kv), typeof(F16Kv), typeof(Q8Kv) })
        {
            yield return (typeof(RopeKvWriteKernel).GetMethod("Kernel")!.MakeGenericMethod(store), false);
            yield return (typeof(PagedAttentionKernel).GetMethod("Kernel")!.MakeGenericMethod(store), true);
            yield return (typeof(BlockCopyKernel).GetMethod("Kernel")!.MakeGenericMethod(store), false);
        }
    }

    /// <summary>Rotates q and k of <paramref name="qkv"/> and writes k and v into the tokens' slots (see <see cref="RopeKvWriteKernel"/>).</summary>
    public abstract void RopeKvWrite(Index1D threads, ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> slots,
        ArrayView<float> ropeCos, ArrayView<float> ropeSin, RopeArgs args);

    public abstract void Attention(KernelConfig config, ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> tokenSequence,
        ArrayView<int> tables, ArrayView<float> output, ArrayView<float> partialAcc, ArrayView<float> partialStats, AttentionArgs args);

    /// <summary>Copies blocks in <paramref name="halves"/> consecutive K/V halves of <paramref name="halfStride"/> values from value <paramref name="first"/> on.</summary>
    public abstract void BlockCopy(Index1D threads, ArrayView<int> pairs, int blockValues, long halfStride, int halves, long first = 0);

    /// <summary>Encodes <paramref name="values"/> on the host as the kernels would and uploads them (tests).</summary>
    public abstract void Upload(float[] values);

    /// <summary>The pool's values, decoded (tests).</summary>
    public abstract float[] Download();

    protected ArrayView<T> Allocate<T>(Accelerator a, long length) where T : unmanaged
    {
        var b = a.Allocate1D<T>(Math.Max(1, length));
        _buffers.Add(b);
        return b.View;
    }

    private static void Put<T>(ArrayView<T> view, T[] values) where T : unmanaged => view.SubView(0, values.LongLength).CopyFromCPU(ref values[0], values.LongLength);

    private static T[] Get<T>(ArrayView<T> view, long length) where T : unmanaged
    {
        var result = new T[length];
        view.SubView(0, length).CopyToCPU(ref result[0], length);
        return result;
    }

    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }

    private sealed class Typed<TKv> : DeviceKvCache where TKv : struct, IKvStore
    {
        private readonly Accelerator _accelerator;
        private readonly TKv _store;
        private readonly Action<Index1D, ArrayView<float>, TKv, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, RopeArgs> _rope;
        private readonly Action<KernelConfig, ArrayView<float>, TKv, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs> _attention;
        private readonly Action<Index1D, TKv, ArrayView<int>, int, long, int, long> _copy;

        public Typed(Accelerator a, KvCacheDataType type, long values, Func<Typed<TKv>, long, TKv> allocate) : base(type, values)
        {
            _accelerator = a;
            try
            {
                _store = allocate(this, values);
            }
            catch
            {
                Dispose();
                throw;
            }
            _rope = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, TKv, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, RopeArgs>(RopeKvWriteKernel.Kernel);
            _attention = a.LoadStreamKernel<ArrayView<float>, TKv, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(PagedAttentionKernel.Kernel);
            _copy = a.LoadAutoGroupedStreamKernel<Index1D, TKv, ArrayView<int>, int, long, int, long>(BlockCopyKernel.Kernel);
        }

        public override void RopeKvWrite(Index1D threads, ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> slots,
            ArrayView<float> ropeCos, ArrayView<float> ropeSin, RopeArgs args) =>
            _rope(threads, qkv, _store, positions, slots, ropeCos, ropeSin, args);

        public override void Attention(KernelConfig config, ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> tokenSequence,
            ArrayView<int> tables, ArrayView<float> output, ArrayView<float> partialAcc, ArrayView<float> partialStats, AttentionArgs args) =>
            _attention(config, qkv, _store, positions, tokenSequence, tables, output, partialAcc, partialStats, args);

        public override void BlockCopy(Index1D threads, ArrayView<int> pairs, int blockValues, long halfStride, int halves, long first = 0) =>
            _copy(threads, _store, pairs, blockValues, halfStride, halves, first);

        public override void Upload(float[] values)
        {
            if (values.LongLength != Values) throw new ArgumentException($"{values.LongLength} values for a pool of {Values}", nameof(values));
            switch (_store)
            {
                case F32Kv f:
                    Put(f.Data, values);
                    break;
                case F16Kv h:
                    Put(h.Bits, values.Select(v => BitConverter.HalfToUInt16Bits((System.Half)v)).ToArray());
                    break;
                case Q8Kv q:
                    var blocks = new byte[Values / 32 * 34];
                    Quantize.Row(GgmlType.Q8_0, values, blocks);
                    var quants = new sbyte[Values];
                    var scales = new ushort[Values / 32];
                    for (long b = 0; b < scales.LongLength; b++)
                    {
                        scales[b] = BitConverter.ToUInt16(blocks, (int)(b * 34));
                        MemoryMarshal.Cast<byte, sbyte>(blocks.AsSpan((int)(b * 34 + 2), 32)).CopyTo(quants.AsSpan((int)(b * 32), 32));
                    }
                    Put(q.Quants, quants);
                    Put(q.Scales, scales);
                    break;
            }
            _accelerator.Synchronize();
        }

        public override float[] Download()
        {
            _accelerator.Synchronize();
            switch (_store)
            {
                case F32Kv f:
                    return Get(f.Data, Values);
                case F16Kv h:
                    return Get(h.Bits, Values).Select(b => (float)BitConverter.UInt16BitsToHalf(b)).ToArray();
                default:
                    var q = (Q8Kv)(object)_store;
                    var quants = Get(q.Quants, Values);
                    var scales = Get(q.Scales, Values / 32);
                    return quants.Select((v, i) => (float)BitConverter.UInt16BitsToHalf(scales[i / 32]) * v).ToArray();
            }
        }
    }
}
