using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`generate` with the engine's request options, and `bench throughput`.</summary>
public sealed class EngineOptionsTests
{
    private static CliRunner.Result Generate(params string[] extra) =>
        CliRunner.Run(["generate", "--model", SharedData.Stories260KGguf, "--prompt", "Once upon a time", "--json", "--threads", "2", .. extra]);

    [Fact]
    public void ParallelSamplesComeAsOutputsAndAreReproducible()
    {
        string[] args = ["--temperature", "1", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--n", "2", "--seed", "3", "--max-tokens", "10"];
        var a = Assert.Single(Generate(args).JsonLines);
        var b = Assert.Single(Generate(args).JsonLines);
        var outputs = a.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(2, outputs.Count);
        Assert.Equal(outputs[0].Ints("token_ids"), a.Ints("token_ids"));
        Assert.Equal(a.GetProperty("outputs").ToString(), b.GetProperty("outputs").ToString());
        Assert.Equal(outputs.Sum(o => o.Ints("token_ids").Length), a.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public void BeamSearchReturnsTheBestBeamsInOrder()
    {
        var line = Assert.Single(Generate("--temperature", "0", "--beam-width", "3", "--n", "2", "--max-tokens", "12").JsonLines);
        var outputs = line.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(2, outputs.Count);
        Assert.NotEqual(outputs[0].Ints("token_ids"), outputs[1].Ints("token_ids"));
        Assert.True(outputs[0].GetProperty("cumulative_logprob").GetDouble() / outputs[0].Ints("token_ids").Length >=
                    outputs[1].GetProperty("cumulative_logprob").GetDouble() / outputs[1].Ints("token_ids").Length - 1e-6);
    }

    [Fact]
    public void AStopStringEndsTheTextBeforeIt()
    {
        var line = Assert.Single(Generate("--temperature", "0", "--stop", "girl", "--max-tokens", "64").JsonLines);
        Assert.Equal(", there was a little ", line.GetProperty("text").GetString());
        Assert.Equal("stop", line.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void LogprobsListTheTopAlternativesOfEachToken()
    {
        var line = Assert.Single(Generate("--temperature", "0", "--logprobs", "3", "--max-tokens", "5").JsonLines);
        var tokens = line.Ints("token_ids");
        var logprobs = line.GetProperty("logprobs").EnumerateArray().ToList();
        Assert.Equal(tokens.Length, logprobs.Count);
        for (var i = 0; i < tokens.Length; i++)
        {
            var top = logprobs[i].GetProperty("top").EnumerateArray().ToList();
            Assert.Equal(3, top.Count);
            Assert.Equal(tokens[i], logprobs[i].GetProperty("token_id").GetInt32());
            Assert.Equal(tokens[i], top[0].GetProperty("token_id").GetInt32()); // greedy picks the most likely
            Assert.True(top[0].GetProperty("logprob").GetDouble() >= top[1].GetProperty("logprob").GetDouble());
            Assert.True(logprobs[i].GetProperty("logprob").GetDouble() <= 0);
        }
    }

    [Theory]
    [InlineData("--beam-width", "--temperature", "0.8", "--beam-width", "2")]
    [InlineData("--stop-token-id", "--stop-token-id", "600")]
    [InlineData("--n", "--n", "0")]
    [InlineData("--best-of", "--n", "3", "--best-of", "2")]
    [InlineData("--logprobs", "--logprobs", "50")]
    public void BadRequestOptionsExitWithTwoNamingTheOption(string named, params string[] args)
    {
        var r = Generate(args);
        Assert.Equal(2, r.ExitCode);
        // Checks that need the model (the vocabulary size) come after its loading lines; the error itself is one line.
        var error = Assert.Single(r.Error.Trim().Split('\n'), l => l.StartsWith("orleans-infer:", StringComparison.Ordinal));
        Assert.Contains(named + ":", error);
    }

    [Theory]
    [InlineData("continuous")]
    [InlineData("static")]
    public void BenchThroughputReportsItsJson(string batching)
    {
        var r = CliRunner.Run("bench", "throughput", "--model", SharedData.Stories260KGguf, "--num-prompts", "6", "--input-len", "4:20", "--output-len", "3:12", "--batching", batching, "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        Assert.Equal(batching, j.GetProperty("batching").GetString());
        Assert.Equal(6, j.GetProperty("requests").GetInt32());
        Assert.True(j.GetProperty("elapsed_s").GetDouble() > 0);
        Assert.True(j.GetProperty("output_tokens_per_s").GetDouble() > 0);
        Assert.True(j.GetProperty("total_tokens_per_s").GetDouble() > j.GetProperty("output_tokens_per_s").GetDouble());
        var kv = j.GetProperty("kv_utilization").GetDouble();
        Assert.InRange(kv, 0.01, 1.0);

        // The same seed gives the same workload whichever batching runs it.
        var other = CliRunner.Run("bench", "throughput", "--model", SharedData.Stories260KGguf, "--num-prompts", "6", "--input-len", "4:20", "--output-len", "3:12", "--batching", batching == "static" ? "continuous" : "static", "--threads", "1", "--json");
        var k = Assert.Single(other.JsonLines);
        Assert.Equal(j.GetProperty("output_tokens").GetInt64(), k.GetProperty("output_tokens").GetInt64());
        Assert.Equal(j.GetProperty("prompt_tokens").GetInt64(), k.GetProperty("prompt_tokens").GetInt64());
    }

    [Fact]
    public void BenchThroughputRejectsBadRanges()
    {
        var r = CliRunner.Run("bench", "throughput", "--model", SharedData.Stories260KGguf, "--input-len", "9:3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--input-len", r.Error);
        var s = CliRunner.Run("bench", "throughput", "--model", SharedData.Stories260KGguf, "--batching", "dynamic");
        Assert.Equal(2, s.ExitCode);
    }
}
