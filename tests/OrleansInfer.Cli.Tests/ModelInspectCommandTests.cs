using OrleansInfer.Model;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`model inspect` on K-quant files: types, bits per weight, one tensor dequantized to raw f32.</summary>
public sealed class ModelInspectCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-inspect-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string SynthQ4K()
    {
        var path = Path.Combine(_folder, "tiny256-q4_k.gguf");
        var r = CliRunner.Run("model", "synth", "--preset", "tiny256", "--type", "q4_k", "--out", path, "--tokenizer", SharedData.Tok512);
        Assert.True(r.ExitCode == 0, r.Error);
        return path;
    }

    [Fact]
    public void InspectShowsKQuantTypesWithBitsPerWeight()
    {
        var path = SynthQ4K();
        var j = Assert.Single(CliRunner.Run("model", "inspect", path, "--json").JsonLines);
        var q = j.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "blk.0.attn_q.weight");
        Assert.Equal("q4_k", q.GetProperty("type").GetString());
        Assert.Equal(4.5, q.GetProperty("bits_per_weight").GetDouble());
        Assert.Equal(256L * 144, q.GetProperty("bytes").GetInt64());
        Assert.True(j.GetProperty("bytes_by_type").GetProperty("q4_k").GetInt64() > 0, "q4_k bytes are listed");

        var text = CliRunner.Run("model", "inspect", path);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("q4_k", text.Output);
        Assert.Contains("4.5 bits per weight", text.Output);
    }

    [Fact]
    public void DequantizeToWritesTheTensorAsRowMajorF32()
    {
        var path = SynthQ4K();
        var raw = Path.Combine(_folder, "wk.f32");
        var r = CliRunner.Run("model", "inspect", path, "--tensor", "blk.1.attn_k.weight", "--dequantize-to", raw);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("blk.1.attn_k.weight", r.Output);

        using var model = ModelFile.Open(path);
        var view = model.Weights!.Layers[1].Wk;
        Assert.Equal([256L, 128L], view.Shape);
        var expected = view.ToFloatArray();
        var bytes = File.ReadAllBytes(raw);
        Assert.Equal(expected.Length * sizeof(float), bytes.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var actual = BitConverter.ToSingle(bytes, i * sizeof(float));
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual),
                $"value {i} (row {i / 256}, column {i % 256}) should be {expected[i]:R}, was {actual:R}");
        }
    }

    [Fact]
    public void UnknownTensorOrMissingTensorOptionExitsWithTwo()
    {
        var path = SynthQ4K();
        var unknown = CliRunner.Run("model", "inspect", path, "--tensor", "blk.9.attn_q.weight", "--dequantize-to", Path.Combine(_folder, "x.f32"));
        Assert.True(unknown.ExitCode == 2, $"an unknown tensor should exit 2, exited {unknown.ExitCode}: {unknown.Error}");
        Assert.Contains("no tensor named 'blk.9.attn_q.weight'", unknown.Error);
        Assert.Single(unknown.Error.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_folder, "x.f32")), "nothing is written for an unknown tensor");

        var noTensor = CliRunner.Run("model", "inspect", path, "--dequantize-to", Path.Combine(_folder, "y.f32"));
        Assert.True(noTensor.ExitCode == 2, $"--dequantize-to without --tensor should exit 2, exited {noTensor.ExitCode}: {noTensor.Error}");
        Assert.Contains("--dequantize-to needs --tensor", noTensor.Error);
    }
}
