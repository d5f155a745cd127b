using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.GpuCheck;

/// <summary>
/// tiny256 models with quantized matrices, each written twice: encoded (the file under test) and with every matrix
/// decoded back to f32 (the exact reference: the same weights for any runner, whatever its kernels do with
/// activations). Matrices come from <see cref="RandomWeights.Encode"/>: random K-quant blocks, other types encoded.
/// </summary>
public static class QuantizedModels
{
    /// <summary>Writes NAME.gguf and NAME-f32.gguf into <paramref name="folder"/>; <paramref name="typeFor"/> picks each matrix's type by tensor name.</summary>
    public static (string Quantized, string Dequantized) Write(string folder, string name, Func<string, GgmlType> typeFor, ulong seed = 7)
    {
        var preset = SyntheticPreset.Find("tiny256")!;
        var source = Path.Combine(folder, name + "-source.gguf");
        SyntheticModel.Write(preset, Vocabulary.FromLlama2cTokenizer(SharedData.Tok512, preset.Config.VocabSize), GgmlType.F32, source, seed, standardDeviation: 0.05f);
        var quantized = new GgufWriter();
        var dequantized = new GgufWriter();
        using (var file = GgufFile.Open(source))
        {
            foreach (var (key, value) in file.Metadata.Entries)
            {
                quantized.Add(key, value);
                dequantized.Add(key, value);
            }
            var rng = new Random((int)seed);
            foreach (var info in file.Tensors)
            {
                var view = file.View(info);
                var values = new float[info.ElementCount];
                view.ReadRows(0, (int)view.Rows, values);
                var type = info.Shape.Length == 1 ? GgmlType.F32 : typeFor(info.Name);
                var bytes = Encode(type, values, (int)view.Columns, rng);
                quantized.AddTensor(info.Name, info.Shape, type, bytes);
                dequantized.AddTensor(info.Name, info.Shape, GgmlType.F32, values);
            }
        }
        File.Delete(source);
        var paths = (Path.Combine(folder, name + ".gguf"), Path.Combine(folder, name + "-f32.gguf"));
        quantized.WriteTo(paths.Item1);
        dequantized.WriteTo(paths.Item2);
        return paths;
    }

    /// <summary>Encodes rows of <paramref name="values"/> as <paramref name="type"/> and overwrites them with what the encoding decodes to.</summary>
    private static byte[] Encode(GgmlType type, float[] values, int cols, Random rng)
    {
        var rowBytes = (int)GgmlTypeInfo.ByteCount(type, cols);
        var rows = values.Length / cols;
        var bytes = new byte[rowBytes * rows];
        for (var r = 0; r < rows; r++)
        {
            var dst = bytes.AsSpan(r * rowBytes, rowBytes);
            var row = values.AsSpan(r * cols, cols);
            RandomWeights.Encode(type, row, dst, rng, 0.05f);
            Dequantize.Row(type, dst, row);
        }
        return bytes;
    }
}
