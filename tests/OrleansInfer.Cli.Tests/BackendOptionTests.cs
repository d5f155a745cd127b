using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`--backend cpu|ilgpu` and `--device auto|cuda|cpu` on generate and bench (ILGPU's CPU accelerator here: no GPU).</summary>
public sealed class BackendOptionTests
{
    [Fact]
    public void IlgpuOnTheCpuAcceleratorGeneratesTheReferenceTokens()
    {
        var reference = SharedData.Reference.Cases[0];
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", reference.Prompt, "--temperature", "0", "--max-tokens", "8",
            "--json", "--threads", "2", "--backend", "ilgpu", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(reference.GeneratedTokenIds[..8], Assert.Single(r.JsonLines).Ints("token_ids"));
        Assert.Contains("ILGPU CPU accelerator", r.Error); // says which device it uses
    }

    [Fact]
    public void BenchLatencyReportsTheIlgpuBackend()
    {
        var r = CliRunner.Run("bench", "latency", "--model", SharedData.Stories260KGguf, "--input-len", "4", "--output-len", "2", "--warmup", "0", "--repeats", "1",
            "--threads", "1", "--json", "--backend", "ilgpu", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        Assert.Equal("ilgpu", j.GetProperty("backend").GetString());
        Assert.Contains("CPU accelerator", j.GetProperty("device").GetString());
    }

    [Theory]
    [InlineData("--backend", "cpu", "--device", "cuda", "--device applies to --backend ilgpu")]
    [InlineData("--backend", "ilgpu", "--device", "cuda", "no CUDA device found")]
    [InlineData("--backend", "tpu", "--device", "auto", "tpu")]
    public void BadBackendChoicesExitWithCode2(string o1, string v1, string o2, string v2, string message)
    {
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", "x", o1, v1, o2, v2);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Error);
    }
}
