using System.CommandLine;
using OrleansInfer.Cli.Bench;
using OrleansInfer.Cli.Infrastructure;

namespace OrleansInfer.Cli.Commands;

/// <summary>`bench latency`: prefill and decode speed of the engine's runner on a model.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("bench", "Benchmarks (JSON with --json)");
        command.Subcommands.Add(Latency(output, error));
        return command;
    }

    private static Command Latency(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var inputLen = new Option<int>("--input-len") { Description = "Prompt tokens per sequence", DefaultValueFactory = _ => 128 };
        var outputLen = new Option<int>("--output-len") { Description = "Generated tokens per sequence", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "Sequences decoded together", DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup") { Description = "Warm-up runs, not measured", DefaultValueFactory = _ => 2 };
        var repeats = new Option<int>("--repeats") { Description = "Measured runs (medians are reported)", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random prompts", DefaultValueFactory = _ => 1 };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var limits = new EngineLimitOptions();
        var command = new Command("latency", "Prefill and decode tokens/s, time to first token and per-token latency");
        foreach (var o in new Option[] { model, tokenizer, inputLen, outputLen, batch, warmup, repeats, seed, threads, json }) command.Options.Add(o);
        limits.AddTo(command);

        command.SetAction(r =>
        {
            var settings = new LatencySettings(r.GetValue(inputLen), r.GetValue(outputLen), r.GetValue(batch), r.GetValue(warmup), r.GetValue(repeats), r.GetValue(seed));
            if (settings.InputLength < 1 || settings.OutputLength < 1 || settings.Batch < 1 || settings.Warmup < 0 || settings.Repeats < 1)
                throw new CliException("--input-len, --output-len, --batch and --repeats must be at least 1, --warmup at least 0");
            var threadCount = r.GetValue(threads);
            using var loaded = LoadedModel.Load(r.GetValue(model)!, r.GetValue(tokenizer), limits.ToRunnerOptions(r, threadCount), error);
            var res = LatencyBench.Run(loaded.Runner!, settings);
            if (r.GetValue(json))
            {
                output.WriteLine(Json.Object(w =>
                {
                    w.WriteString("engine", "orleans-infer");
                    w.WriteString("backend", "cpu");
                    w.WriteString("device", loaded.Runner!.DeviceName);
                    w.WriteString("model", Path.GetFileName(loaded.File.Path));
                    w.WriteNumber("threads", threadCount);
                    w.WriteNumber("batch", settings.Batch);
                    w.WriteNumber("input_len", settings.InputLength);
                    w.WriteNumber("output_len", settings.OutputLength);
                    w.WriteNumber("repeats", settings.Repeats);
                    w.WriteNumber("prefill_tokens_per_s", Math.Round(res.PrefillTokensPerSecond, 2));
                    w.WriteNumber("decode_tokens_per_s", Math.Round(res.DecodeTokensPerSecond, 2));
                    w.WriteNumber("decode_throughput_tokens_per_s", Math.Round(res.DecodeThroughputTokensPerSecond, 2));
                    w.WriteNumber("ttft_ms", Math.Round(res.TimeToFirstTokenMs, 3));
                    w.WriteStartObject("per_token_latency_ms");
                    w.WriteNumber("p50", Math.Round(res.PerTokenP50Ms, 3));
                    w.WriteNumber("p90", Math.Round(res.PerTokenP90Ms, 3));
                    w.WriteNumber("p99", Math.Round(res.PerTokenP99Ms, 3));
                    w.WriteEndObject();
                }));
            }
            else
            {
                output.WriteLine($"{Path.GetFileName(loaded.File.Path)} on {loaded.Runner!.DeviceName}, batch {settings.Batch}, {settings.InputLength} in / {settings.OutputLength} out, median of {settings.Repeats}");
                output.WriteLine($"  prefill  {res.PrefillTokensPerSecond,10:F1} tokens/s   (time to first token {res.TimeToFirstTokenMs:F1} ms)");
                output.WriteLine($"  decode   {res.DecodeTokensPerSecond,10:F1} tokens/s per sequence, {res.DecodeThroughputTokensPerSecond:F1} in all");
                output.WriteLine($"  per-token latency p50 {res.PerTokenP50Ms:F2} ms, p90 {res.PerTokenP90Ms:F2} ms, p99 {res.PerTokenP99Ms:F2} ms");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
