using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`--kv-cache-dtype f32|f16|q8_0` on every engine host: the loaded line reports the KV bytes per token; bad values are one line, exit 2.</summary>
public sealed class KvCacheDtypeOptionTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    [Theory]
    [InlineData("f32", "f32, 1280 bytes per token")] // stories260K: 2 × 5 layers × kv_dim 32 × 4 bytes
    [InlineData("f16", "f16, 640 bytes per token")]
    public void GenerateReportsTheKvBytesPerTokenAndKeepsTheReference(string dtype, string reported)
    {
        var reference = SharedData.Reference.Cases[0];
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", reference.Prompt, "--temperature", "0", "--max-tokens", "8",
            "--json", "--threads", "1", "--kv-cache-dtype", dtype);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains(reported, r.Error);
        Assert.Equal(reference.GeneratedTokenIds[..8], Assert.Single(r.JsonLines).Ints("token_ids"));
    }

    [Fact]
    public void Q8RunsOnSixtyFourWideHeads()
    {
        var r = CliRunner.Run("generate", "--model", tiny.Path, "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "4",
            "--json", "--threads", "1", "--kv-cache-dtype", "q8_0");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("q8_0, 544 bytes per token", r.Error); // tiny256: 2 × 2 layers × 128 values / 32 × 34 bytes
        Assert.Equal(4, Assert.Single(r.JsonLines).Ints("token_ids").Length);
    }

    public static TheoryData<string[]> Hosts() => new()
    {
        new[] { "generate", "--model", SharedData.Stories260KGguf, "--prompt", "x" },
        new[] { "chat", "--model", SharedData.Stories260KGguf },
        new[] { "bench", "latency", "--model", SharedData.Stories260KGguf },
        new[] { "bench", "throughput", "--model", SharedData.Stories260KGguf },
        new[] { "silo", "--model", SharedData.Stories260KGguf },
        new[] { "serve", "--model", SharedData.Stories260KGguf },
    };

    [Theory]
    [MemberData(nameof(Hosts))]
    public void ABadValueIsOneLineAndExitCode2(string[] command)
    {
        var r = CliRunner.Run([.. command, "--kv-cache-dtype", "q4_0"]);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Error.Trim().Split('\n'));
        Assert.Contains("--kv-cache-dtype must be one of f32, f16, q8_0, got 'q4_0'", line);
    }

    [Theory]
    [InlineData("generate", "--prompt", "x")]
    [InlineData("bench", "latency")]
    public void Q8OnHeadsOfEightIsOneLineAndExitCode2(params string[] command)
    {
        var r = CliRunner.Run([.. command.Take(command[0] == "bench" ? 2 : 1), "--model", SharedData.Stories260KGguf, .. command.Skip(command[0] == "bench" ? 2 : 1), "--kv-cache-dtype", "q8_0"]);
        Assert.Equal(2, r.ExitCode);
        var error = Assert.Single(r.Error.Trim().Split('\n'), l => l.StartsWith("orleans-infer:", StringComparison.Ordinal));
        Assert.Contains("head size is 8", error);
    }
}
