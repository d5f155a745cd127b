using System.Runtime.InteropServices;
using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu;

/// <summary>
/// The paged KV pool: per layer, keys then values, each <c>[block][slot in block][kv row]</c>, where a kv row is a
/// token's KV heads encoded as <see cref="DataType"/> (f32, f16, or q8_0 blocks per head: 34 bytes per 32 values).
/// </summary>
internal sealed unsafe class KvPool : IDisposable
{
    private byte* _data;
    private readonly long _layerStride;
    private readonly long _blockBytes;
    private readonly int _layers;

    public KvPool(LlamaConfig c, KvCacheDataType type, int blockSize, int blocks)
    {
        KvCacheDataTypes.EnsureSupported(type, c);
        DataType = type;
        KvDim = c.KvDim;
        SlotBytes = KvCacheDataTypes.RowBytes(type, c.KvDim);
        HeadBytes = KvCacheDataTypes.RowBytes(type, c.HeadDim);
        _blockBytes = SlotBytes * blockSize;
        _layerStride = _blockBytes * blocks;
        _layers = c.BlockCount;
        var total = 2 * _layers * _layerStride;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, total), 64);
    }

    public KvCacheDataType DataType { get; }

    public int KvDim { get; }

    /// <summary>Bytes of one token's keys (or values) in one layer.</summary>
    public long SlotBytes { get; }

    /// <summary>Bytes of one KV head's row within a slot.</summary>
    public long HeadBytes { get; }

    public byte* Keys(int layer) => _data + 2L * layer * _layerStride;

    public byte* Values(int layer) => Keys(layer) + _layerStride;

    /// <summary>Encodes a token's (rotated) keys and its values into <paramref name="slot"/> of one layer.</summary>
    public void Write(byte* keys, byte* values, int slot, float* k, float* v)
    {
        var at = slot * SlotBytes;
        switch (DataType)
        {
            case KvCacheDataType.F16:
                F16KvRow.Write(k, keys + at, KvDim);
                F16KvRow.Write(v, values + at, KvDim);
                break;
            case KvCacheDataType.Q8_0:
                Q8KvRow.Write(k, keys + at, KvDim);
                Q8KvRow.Write(v, values + at, KvDim);
                break;
            default:
                F32KvRow.Write(k, keys + at, KvDim);
                F32KvRow.Write(v, values + at, KvDim);
                break;
        }
    }

    /// <summary>Copy-on-write: block <paramref name="source"/>'s bytes into <paramref name="destination"/> in every layer's keys and values.</summary>
    public void CopyBlock(int source, int destination)
    {
        for (var half = 0; half < 2 * _layers; half++)
        {
            var basePtr = _data + half * _layerStride;
            Buffer.MemoryCopy(basePtr + source * _blockBytes, basePtr + destination * _blockBytes, _blockBytes, _blockBytes);
        }
    }

    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
