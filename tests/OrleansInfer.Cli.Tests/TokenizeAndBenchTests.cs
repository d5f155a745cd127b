using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

public sealed class TokenizeAndBenchTests
{
    [Fact]
    public void TokenizeJsonGivesIdsAndPieces()
    {
        var r = CliRunner.Run("tokenize", "--model", SharedData.Stories260KGguf, "--text", "Once upon a time", "--json");
        var j = Assert.Single(r.JsonLines);
        Assert.Equal(SharedData.Reference.Cases[0].PromptTokenIds, j.Ints("token_ids"));
        Assert.Equal(["<s>", "▁Once", "▁upon", "▁a", "▁time"], j.GetProperty("pieces").EnumerateArray().Select(p => p.GetString()));

        var noBos = CliRunner.Run("tokenize", "--model", SharedData.Stories260KGguf, "--text", "Once upon a time", "--no-bos");
        Assert.Equal("403 407 261 378\n", noBos.Output);
    }

    [Fact]
    public void AVocabularyOnlyGgufIsEnoughToTokenize()
    {
        var r = CliRunner.Run("tokenize", "--model", SharedData.File("tokenizers", "ggml-vocab-llama-spm.gguf"), "--text", "Hello world", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal([1, 15043, 3186], Assert.Single(r.JsonLines).Ints("token_ids"));
    }

    [Fact]
    public void BenchLatencyReportsMediansAsJson()
    {
        var r = CliRunner.Run("bench", "latency", "--model", SharedData.Stories260KGguf, "--input-len", "16", "--output-len", "8", "--batch", "2", "--warmup", "1", "--repeats", "3", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        Assert.Equal(2, j.GetProperty("batch").GetInt32());
        foreach (var field in new[] { "prefill_tokens_per_s", "decode_tokens_per_s", "decode_throughput_tokens_per_s", "ttft_ms" })
            Assert.True(j.GetProperty(field).GetDouble() > 0, field);
        // Both figures are rounded to 2 decimals separately: twice the one differs from the other by at most 0.015.
        var twice = 2 * j.GetProperty("decode_tokens_per_s").GetDouble();
        var throughput = j.GetProperty("decode_throughput_tokens_per_s").GetDouble();
        Assert.True(Math.Abs(twice - throughput) <= 0.0151, $"expected twice the decode rate ({twice}) to be the batch throughput ({throughput}) up to rounding");
        var p = j.GetProperty("per_token_latency_ms");
        Assert.True(p.GetProperty("p50").GetDouble() <= p.GetProperty("p99").GetDouble());
    }

    [Fact]
    public void BenchRejectsWorkThatCannotFit()
    {
        var r = CliRunner.Run("bench", "latency", "--model", SharedData.Stories260KGguf, "--input-len", "100", "--output-len", "100");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("context", r.Error);
    }
}
