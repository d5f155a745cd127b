using System.Runtime.InteropServices;
using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu;

/// <summary>
/// The paged KV pool: per layer, keys then values, each <c>[block][slot in block][kv row]</c>, where a kv row is a
/// token's KV heads of that layer encoded as <see cref="DataType"/> (f32, f16, or q8_0 blocks per head: 34 bytes per
/// 32 values). Layers may have different KV head counts (deci), so each layer has its own slot size and stride:
/// the pool holds the sum over layers, never the widest layer times the layer count.
/// </summary>
internal sealed unsafe class KvPool : IDisposable
{
    private byte* _data;
    private readonly long[] _layerOffset; // bytes from _data to the layer's keys; its values follow after _layerHalf[l]
    private readonly long[] _layerHalf;   // bytes of one layer's keys (= of its values): blocks * block bytes
    private readonly long[] _slotBytes;
    private readonly int[] _kvDim;
    private readonly int _blockSize;

    public KvPool(LlamaConfig c, KvCacheDataType type, int blockSize, int blocks)
    {
        KvCacheDataTypes.EnsureSupported(type, c);
        DataType = type;
        _blockSize = blockSize;
        HeadBytes = KvCacheDataTypes.RowBytes(type, c.HeadDim);
        var layers = c.BlockCount;
        (_layerOffset, _layerHalf, _slotBytes, _kvDim) = (new long[layers], new long[layers], new long[layers], new int[layers]);
        long total = 0;
        for (var l = 0; l < layers; l++)
        {
            _kvDim[l] = c.KvDimOf(l);
            _slotBytes[l] = c.KvHeadCountOf(l) * HeadBytes;
            _layerHalf[l] = _slotBytes[l] * blockSize * blocks;
            _layerOffset[l] = total;
            total += 2 * _layerHalf[l];
        }
        TotalBytes = total;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, total), 64);
    }

    public KvCacheDataType DataType { get; }

    /// <summary>Bytes of the whole pool (every layer's keys and values).</summary>
    public long TotalBytes { get; }

    /// <summary>Bytes of one token's keys (or values) in <paramref name="layer"/>.</summary>
    public long SlotBytes(int layer) => _slotBytes[layer];

    /// <summary>Bytes of one KV head's row within a slot (the same in every layer: one head size).</summary>
    public long HeadBytes { get; }

    public byte* Keys(int layer) => _data + _layerOffset[layer];

    public byte* Values(int layer) => Keys(layer) + _layerHalf[layer];

    /// <summary>Encodes a token's (rotated) keys and its values into <paramref name="slot"/> of <paramref name="layer"/>.</summary>
    public void Write(int layer, int slot, float* k, float* v)
    {
        var at = slot * _slotBytes[layer];
        byte* keys = Keys(layer) + at, values = Values(layer) + at;
        var n = _kvDim[layer];
        switch (DataType)
        {
            case KvCacheDataType.F16:
                F16KvRow.Write(k, keys, n);
                F16KvRow.Write(v, values, n);
                break;
            case KvCacheDataType.Q8_0:
                Q8KvRow.Write(k, keys, n);
                Q8KvRow.Write(v, values, n);
                break;
            default:
                F32KvRow.Write(k, keys, n);
                F32KvRow.Write(v, values, n);
                break;
        }
    }

    /// <summary>Copy-on-write: block <paramref name="source"/>'s bytes into <paramref name="destination"/> in every layer's keys and values.</summary>
    public void CopyBlock(int source, int destination)
    {
        for (var l = 0; l < _layerOffset.Length; l++)
        {
            var blockBytes = _slotBytes[l] * _blockSize;
            foreach (var half in (ReadOnlySpan<long>)[_layerOffset[l], _layerOffset[l] + _layerHalf[l]])
            {
                var basePtr = _data + half;
                Buffer.MemoryCopy(basePtr + source * blockBytes, basePtr + destination * blockBytes, blockBytes, blockBytes);
            }
        }
    }

    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
