using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tensors;
using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// Every tensor of every file llama.cpp quantized, read by our <see cref="TensorView.ReadRows"/>, equals llama.cpp's
/// own dequantization of the same bytes (its dequantize_row_* from libggml-base.so) bit for bit.
/// </summary>
[Collection(LlamaCppQuantizedCollection.Name)]
public sealed class LlamaCppDequantizationTests(LlamaCppQuantizedFixture fixture, ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(LlamaCppQuantizedFixture.Files), MemberType = typeof(LlamaCppQuantizedFixture))]
    public void EveryTensorDequantizesToLlamaCppsValues(string file)
    {
        using var gguf = GgufFile.Open(fixture.Paths[file]);
        var seen = new SortedSet<GgmlType>();
        long values = 0;
        foreach (var info in gguf.Tensors)
        {
            var view = gguf.View(info);
            seen.Add(view.Type);
            var columns = checked((int)view.Columns);
            var ours = new float[columns];
            var theirs = new float[columns];
            for (long row = 0; row < view.Rows; row++)
            {
                view.ReadRows(row, 1, ours);
                GgmlNative.DequantizeRow(view.Type, RowBytes(view, row), theirs, columns);
                for (var c = 0; c < columns; c++)
                {
                    if (BitConverter.SingleToInt32Bits(ours[c]) != BitConverter.SingleToInt32Bits(theirs[c]))
                    {
                        Assert.Fail($"{file}, tensor {view.Name} ({view.Type}), row {row}, column {c}: expected llama.cpp's {theirs[c]:R} (0x{BitConverter.SingleToInt32Bits(theirs[c]):X8}), got {ours[c]:R} (0x{BitConverter.SingleToInt32Bits(ours[c]):X8})");
                    }
                }
                values += columns;
            }
        }
        output.WriteLine($"{file}: {gguf.Tensors.Count} tensors, {values} values equal llama.cpp's bit for bit; types {string.Join(", ", seen)}");

        // The file holds the types llama.cpp's recipe promises, so each of them was compared.
        var expected = LlamaCppQuantizedFixture.ExpectedTypes[file];
        Assert.True(expected.Order().SequenceEqual(seen),
            $"{file}: expected tensor types {string.Join(", ", expected.Order())} from llama.cpp's quantizer, got {string.Join(", ", seen)}");
    }

    private static unsafe ReadOnlySpan<byte> RowBytes(TensorView view, long row) =>
        new(view.Data + row * view.RowBytes, checked((int)view.RowBytes));
}
