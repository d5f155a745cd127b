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
            var report = new LatencyReport("orleans-infer", "cpu", loaded.Runner!.DeviceName, Path.GetFileName(loaded.File.Path), threadCount, settings, res);
            output.WriteLine(r.GetValue(json) ? report.ToJson() : report.ToText());
            return ExitCodes.Ok;
        });
        return command;
    }
}
