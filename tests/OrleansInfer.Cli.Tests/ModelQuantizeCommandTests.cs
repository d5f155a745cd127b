using System.Text.Json;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

public sealed class ModelQuantizeCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-quantize-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Dictionary<string, string> Types(string path)
    {
        var j = Assert.Single(CliRunner.Run("model", "inspect", path, "--json").JsonLines);
        return j.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("type").GetString()!);
    }

    [Fact]
    public void Q4_0MixKeepsTheOutputAtQ8_0OnRowsOf64AndWritesTheFileType()
    {
        var output = Path.Combine(_folder, "q4_0.gguf");
        var r = CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output, "--type", "q4_0", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var types = Types(output);
        Assert.Equal("q8_0", types["output.weight"]); // llama.cpp: the classifier gets q6_k, which rows of 64 turn into q8_0
        Assert.Equal("q4_0", types["token_embd.weight"]);
        Assert.Equal("f16", types["blk.2.ffn_down.weight"]);
        Assert.Equal("f32", types["blk.2.ffn_norm.weight"]);
        var meta = Assert.Single(CliRunner.Run("model", "inspect", output, "--json").JsonLines).GetProperty("metadata");
        Assert.Equal("2", meta.GetProperty("general.file_type").GetString());
        Assert.Equal("2", meta.GetProperty("general.quantization_version").GetString());
        var g = CliRunner.Run("generate", "--model", output, "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "8", "--json");
        Assert.Equal(8, Assert.Single(g.JsonLines).Ints("token_ids").Length);
    }

    [Fact]
    public void Q4KMWritesLlamaCppsMix()
    {
        var output = Path.Combine(_folder, "q4_k_m.gguf");
        var r = CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output, "--type", "q4_k_m", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Error);
        var types = Types(output);
        Assert.Equal("q5_0", types["token_embd.weight"]);
        Assert.Equal("q8_0", types["output.weight"]);
        Assert.Equal("q8_0", types["blk.2.attn_v.weight"]);
        Assert.Equal("q5_0", types["blk.1.attn_v.weight"]);
        Assert.Equal("f16", types["blk.1.ffn_down.weight"]);
        Assert.Contains("rows of 64: q4_k falls back", r.Output);
    }

    [Fact]
    public void SelectivePrintsTheTableStaysWithinTheTargetAndLoads()
    {
        var output = Path.Combine(_folder, "selective.gguf");
        var r = CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output, "--selective", "--calibration-file", EvalCommandTests.CalibrationText,
            "--target-bpw", "7.5", "--ctx", "64", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        var bpw = j.GetProperty("bpw").GetDouble();
        Assert.True(bpw is <= 7.5 and > 6.667, $"expected the bits per weight within (uniform q4_0 6.667, target 7.5], got {bpw}");
        var tensors = j.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(48, tensors.Count);
        Assert.Equal(37, tensors.Count(t => t.TryGetProperty("sensitivity", out _)));
        Assert.Contains(tensors, t => t.GetProperty("type").GetString() == "q8_0");
        Assert.True(tensors.Where(t => t.GetProperty("name").GetString()!.EndsWith("ffn_down.weight", StringComparison.Ordinal)).All(t => t.GetProperty("type").GetString() == "f16"),
            "ffn_down rows of 172 are neither q4_0 nor q8_0 blocks: f16");
        Assert.Equal(new FileInfo(output).Length, j.GetProperty("bytes").GetInt64());

        var text = CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output, "--selective", "--calibration-file", EvalCommandTests.CalibrationText,
            "--target-bpw", "7.5", "--ctx", "64", "--threads", "1");
        Assert.Contains("sensitivity", text.Output.Split('\n')[0]);
        Assert.Contains("bits per weight over the quantized matrices, target 7.500", text.Output);

        var kl = CliRunner.Run("eval", "kl", "--model", output, "--base", SharedData.Stories260KGguf, "--text-file", EvalCommandTests.EvalText, "--threads", "1", "--json");
        Assert.True(kl.ExitCode == 0, kl.Error);
        Assert.True(Assert.Single(kl.JsonLines).GetProperty("mean_kl").GetDouble() > 0, "a quantized model differs from f32");
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        var output = Path.Combine(_folder, "x.gguf");
        Assert.Equal(2, CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output, "--type", "q4_k_s").ExitCode);
        Assert.Equal(2, CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output).ExitCode);
        var noCalibration = CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output, "--selective", "--target-bpw", "7");
        Assert.Equal(2, noCalibration.ExitCode);
        Assert.Contains("--calibration-file", noCalibration.Error);
        var tooLow = CliRunner.Run("model", "quantize", SharedData.Stories260KGguf, output, "--selective", "--order", "position", "--target-bpw", "5");
        Assert.Equal(2, tooLow.ExitCode);
        Assert.Contains("6.6", tooLow.Error);
        Assert.False(File.Exists(output), "nothing is written on bad arguments");
    }
}
