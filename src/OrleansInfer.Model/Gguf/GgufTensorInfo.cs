using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Gguf;

/// <summary>A tensor's header entry: name, shape (ne0 first, the contiguous dimension), element type and data offset.</summary>
public sealed record GgufTensorInfo(string Name, long[] Shape, GgmlType Type, ulong Offset)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    public long ByteCount => GgmlTypeInfo.ByteCount(Type, ElementCount);

    public string ShapeText => string.Join(" x ", Shape);
}
