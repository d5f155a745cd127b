using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`model synth --arch`: a tiny model of every architecture that inspects as its family, and clear refusals.</summary>
public sealed class ModelSynthArchTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-synth-arch-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("llama", "tiny", "ggml-vocab-llama-spm.gguf", 32000, null)]
    [InlineData("llama", "tiny-yarn", "ggml-vocab-llama-spm.gguf", 32000, null)]
    [InlineData("qwen2", "tiny", "ggml-vocab-gpt-2.gguf", 50257, null)]
    [InlineData("qwen3", "tiny", "ggml-vocab-gpt-2.gguf", 50257, null)]
    [InlineData("phi3", "tiny", "ggml-vocab-llama-spm.gguf", 32000, null)]
    [InlineData("gemma2", "tiny", "ggml-vocab-llama-spm.gguf", 32000, 8)]
    [InlineData("gemma3", "tiny", "ggml-vocab-llama-spm.gguf", 32000, 8)]
    [InlineData("deci", "tiny", "ggml-vocab-llama-spm.gguf", 32000, null)]
    public void TinyPresetOfEachArchitectureInspectsAsItsFamily(string arch, string preset, string vocabulary, int vocabSize, int? window)
    {
        var path = Path.Combine(_folder, $"{arch}-{preset}.gguf");
        var r = CliRunner.Run("model", "synth", "--arch", arch, "--preset", preset, "--type", "q8_0", "--out", path,
            "--vocab-from", SharedData.File("tokenizers", vocabulary), "--seed", "7");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains($"{preset}: ", r.Output);

        var inspect = CliRunner.Run("model", "inspect", path, "--json");
        Assert.True(inspect.ExitCode == 0, inspect.Error);
        var config = Assert.Single(inspect.JsonLines).GetProperty("config");
        Assert.Equal(arch, config.GetProperty("architecture").GetString());
        Assert.Equal(vocabSize, config.GetProperty("vocab_size").GetInt32());
        Assert.Equal(128, config.GetProperty("embedding_length").GetInt32());
        Assert.Equal(window, config.TryGetProperty("sliding_window", out var w) ? w.GetInt32() : null);
        if (arch == "deci") Assert.Equal("2,1,4,2", string.Join(",", config.GetProperty("head_count_kv_per_layer").EnumerateArray().Select(e => e.GetInt32())));
        if (preset == "tiny-yarn") Assert.Equal("yarn", config.GetProperty("rope_scaling").GetString());
    }

    [Fact]
    public void DefaultVocabularyComesFromTheSharedTokenizersFolder()
    {
        // Without --vocab-from the preset's vocabulary GGUF is found under shared/tokenizers (gpt-2 for qwen).
        var path = Path.Combine(_folder, "qwen2.gguf");
        var r = CliRunner.Run("model", "synth", "--arch", "qwen2", "--preset", "tiny", "--type", "f16", "--out", path);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("qwen2: dim 128, 3 layers, 4 heads (2 KV), hidden 256, vocab 50257, context 4096", r.Output);
    }

    [Theory]
    [InlineData("--arch mamba --preset tiny", "unknown --arch 'mamba' (llama, qwen2, qwen3, phi3, gemma2, gemma3, deci)")]
    [InlineData("--preset tiny", "preset 'tiny' exists for llama, qwen2, qwen3, phi3, gemma2, gemma3, deci: pass --arch")]
    [InlineData("--arch qwen2 --preset gemma3-1b", "unknown preset 'gemma3-1b' for qwen2 (known: tiny, qwen2.5-0.5b)")]
    public void BadArchOrPresetExitsWithTwoAndOneLine(string args, string message)
    {
        var r = CliRunner.Run(["model", "synth", .. args.Split(' '), "--type", "f32", "--out", Path.Combine(_folder, "x.gguf")]);
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Error}");
        Assert.Contains(message, r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }

    [Fact]
    public void QuantizeRefusesOtherArchitectures()
    {
        var path = Path.Combine(_folder, "gemma2.gguf");
        Assert.Equal(0, CliRunner.Run("model", "synth", "--arch", "gemma2", "--preset", "tiny", "--type", "f32", "--out", path).ExitCode);
        var r = CliRunner.Run("model", "quantize", path, Path.Combine(_folder, "q.gguf"), "--type", "q4_k_m");
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Error}");
        Assert.Contains("model quantize follows llama.cpp's recipes for the llama architecture only, not gemma2", r.Error);
    }
}
