using System.Runtime.InteropServices;
using OrleansInfer.Backends.Cpu;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

public sealed class EvalCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-eval-").FullName;

    public static string EvalText => Path.Combine(AppContext.BaseDirectory, "Data", "eval.txt");

    public static string CalibrationText => Path.Combine(AppContext.BaseDirectory, "Data", "calibration.txt");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void PerplexityEqualsTheOneComputedFromTheRunnersPrefillLogits()
    {
        const int ctx = 64;
        var r = CliRunner.Run("eval", "perplexity", "--model", SharedData.Stories260KGguf, "--text-file", EvalText, "--ctx", $"{ctx}", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);

        // Independently: llama.cpp's chunks (BOS replaces each chunk's first token, second half scored), each scored
        // position's logits from its own fresh prefill of the chunk up to it (not the command's one-token steps).
        using var model = ModelFile.Open(SharedData.Stories260KGguf);
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 1, KvBlocks = 16 });
        var tokenizer = Tokenizer.Create(model.Vocabulary);
        var tokens = tokenizer.Encode(File.ReadAllText(EvalText));
        var driver = new RunnerDriver(runner);
        double nll = 0;
        var count = 0;
        for (var start = 0; start + ctx <= tokens.Length; start += ctx)
        {
            var chunk = tokens[start..(start + ctx)];
            chunk[0] = tokenizer.BosId;
            for (var p = ctx / 2; p < ctx - 1; p++)
            {
                var logits = driver.Prefill(count, chunk[..(p + 1)]);
                driver.Release(count);
                var max = logits.Max();
                var logSum = Math.Log(logits.Sum(l => Math.Exp(l - max))) + max;
                nll += logSum - logits[chunk[p + 1]];
                count++;
            }
        }
        var expected = Math.Exp(nll / count);
        Assert.Equal(count, j.GetProperty("tokens").GetInt32());
        Assert.Equal(tokens.Length / ctx, j.GetProperty("chunks").GetInt32());
        var ppl = j.GetProperty("perplexity").GetDouble();
        Assert.True(Math.Abs(ppl - expected) < 1e-4 * expected, $"expected perplexity {expected} (from prefill logits), got {ppl}");
        Assert.True(ppl is > 1 and < 20, $"stories260K on TinyStories-like text: expected a perplexity between 1 and 20, got {ppl}");
    }

    [Fact]
    public void KlOfAModelAgainstItselfIsZeroWithFullAgreement()
    {
        var r = CliRunner.Run("eval", "kl", "--model", SharedData.Stories260KGguf, "--base", SharedData.Stories260KGguf, "--text-file", EvalText, "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        Assert.Equal(0, j.GetProperty("mean_kl").GetDouble());
        Assert.Equal(0, j.GetProperty("p99_kl").GetDouble());
        Assert.Equal(1, j.GetProperty("top1_agreement").GetDouble());
        Assert.Equal(4 * 63, j.GetProperty("tokens").GetInt32()); // 555 tokens: 4 chunks of 128 (the model's context), 63 scored each
    }

    [Fact]
    public void KlOfQ8AgainstF32IsSmallButNotZero()
    {
        var q8 = Path.Combine(_folder, "q8.gguf");
        Assert.Equal(0, CliRunner.Run("model", "convert", SharedData.Stories260KGguf, q8, "--type", "q8_0").ExitCode);
        var r = CliRunner.Run("eval", "kl", "--model", q8, "--base", SharedData.Stories260KGguf, "--text-file", EvalText, "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        var mean = j.GetProperty("mean_kl").GetDouble();
        Assert.True(mean is > 0 and < 0.01, $"q8_0 against f32: expected a mean KL in (0, 0.01), got {mean}");
        Assert.True(j.GetProperty("p99_kl").GetDouble() >= mean, "the 99th percentile is at least the mean here");
        Assert.True(j.GetProperty("top1_agreement").GetDouble() > 0.9, "q8_0 picks f32's top token almost always");
    }

    [Fact]
    public void LogitsFileHoldsEveryPositionAndMatchesTheReference()
    {
        var reference = SharedData.Reference.Cases[0];
        // The prompt plus the first two generated tokens: positions prompt-1, prompt, prompt+1 are the reference's steps 0..2.
        var tokenizer = Tokenizer.Create(ModelFile.LoadVocabulary(SharedData.Stories260KGguf, null));
        var text = reference.Prompt + tokenizer.Decode(reference.GeneratedTokenIds.AsSpan(0, 2));
        var path = Path.Combine(_folder, "logits.bin");
        var r = CliRunner.Run("eval", "logits", "--model", SharedData.Stories260KGguf, "--prompt", text, "--out", path, "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        var ids = j.Ints("token_ids");
        Assert.Equal([.. reference.PromptTokenIds, .. reference.GeneratedTokenIds[..2]], ids);
        Assert.Equal((long)ids.Length * 512 * 4, new FileInfo(path).Length);

        var logits = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
        for (var step = 0; step < 3; step++)
        {
            var row = logits.AsSpan((reference.PromptTokenIds.Length - 1 + step) * 512, 512).ToArray();
            var diff = Enumerable.Range(0, 512).Max(i => Math.Abs(row[i] - reference.Logits[step][i]));
            Assert.True(diff < 1e-4, $"row {reference.PromptTokenIds.Length - 1 + step}: expected the reference logits of step {step}, max |diff| {diff}");
        }
    }

    [Fact]
    public void BadInputIsOneLineAndExitCode2()
    {
        var missing = CliRunner.Run("eval", "perplexity", "--model", SharedData.Stories260KGguf, "--text-file", Path.Combine(_folder, "none.txt"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("text file not found", missing.Error);

        var shortText = Path.Combine(_folder, "short.txt");
        File.WriteAllText(shortText, "Once upon a time");
        var tooShort = CliRunner.Run("eval", "perplexity", "--model", SharedData.Stories260KGguf, "--text-file", shortText);
        Assert.Equal(2, tooShort.ExitCode);
        Assert.Contains("fewer than one chunk of 128", tooShort.Error);
        Assert.Single(tooShort.Error.Trim().Split('\n'));

        var other = Path.Combine(_folder, "other-vocab.gguf");
        Assert.Equal(0, CliRunner.Run("model", "synth", "--preset", "stories15m", "--type", "q4_0", "--out", other, "--tokenizer", SharedData.Llama2Tokenizer).ExitCode);
        var mismatch = CliRunner.Run("eval", "kl", "--model", other, "--base", SharedData.Stories260KGguf, "--text-file", EvalText);
        Assert.Equal(2, mismatch.ExitCode);
        Assert.Contains("vocabulary mismatch", mismatch.Error);

        var badKv = CliRunner.Run("eval", "perplexity", "--model", SharedData.Stories260KGguf, "--text-file", EvalText, "--kv-cache-dtype", "q4_0");
        Assert.Equal(2, badKv.ExitCode);
        Assert.Contains("unknown KV cache type", badKv.Error);
    }
}
