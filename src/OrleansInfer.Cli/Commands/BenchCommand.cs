using System.CommandLine;
using OrleansInfer.Cli.Bench;
using OrleansInfer.Abstractions;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Client;
using OrleansInfer.Silo;

namespace OrleansInfer.Cli.Commands;

/// <summary>`bench latency | throughput | serve | template`: engine speed on a model, a running gateway's serving latency, and chat-template render time.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("bench", "Benchmarks (JSON with --json)");
        command.Subcommands.Add(Latency(output, error));
        command.Subcommands.Add(Throughput(output, error));
        command.Subcommands.Add(Serve(output));
        command.Subcommands.Add(Template(output));
        return command;
    }

    private static Command Template(TextWriter output)
    {
        var template = new Option<string?>("--template") { Description = "Jinja chat template file" };
        var model = new Option<string?>("--model", "-m") { Description = "GGUF model whose tokenizer.chat_template to render" };
        var messages = new Option<int>("--messages") { Description = "Messages in the conversation", DefaultValueFactory = _ => 20 };
        var noSystem = new Option<bool>("--no-system") { Description = "Start with a user turn (for templates that refuse a system message)" };
        var rounds = new Option<int>("--rounds") { Description = "Measured rounds (the median round is reported)", DefaultValueFactory = _ => 31 };
        var perRound = new Option<int>("--renders-per-round") { Description = "Back-to-back renders per round", DefaultValueFactory = _ => 200 };
        var warmup = new Option<double>("--warmup-seconds") { Description = "Seconds of renders before measuring", DefaultValueFactory = _ => 3 };
        var json = CommonOptions.Json();
        var command = new Command("template", "Time to render a chat template for a conversation, after warm-up");
        foreach (var o in new Option[] { template, model, messages, noSystem, rounds, perRound, warmup, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            if ((r.GetValue(template) is null) == (r.GetValue(model) is null)) throw new CliException("give exactly one of --template or --model");
            if (r.GetValue(messages) < 1 || r.GetValue(rounds) < 1 || r.GetValue(perRound) < 1) throw new CliException("--messages, --rounds and --renders-per-round must be at least 1");
            if (r.GetValue(warmup) is < 0 or > 600) throw new CliException("--warmup-seconds must be 0..600");
            Model.Chat.ChatTemplate chat;
            if (r.GetValue(template) is { } path)
            {
                chat = new Model.Chat.ChatTemplate(TemplateFiles.ReadValid(path), "<|begin_of_text|>", "<|eot_id|>");
            }
            else
            {
                using var file = LoadedModel.OpenFile(r.GetValue(model)!, null, requireWeights: false);
                chat = TemplateFiles.ForModel(file.Vocabulary, r.GetValue(model)!, null);
            }
            var settings = new TemplateBenchSettings(r.GetValue(messages), !r.GetValue(noSystem), TimeSpan.FromSeconds(r.GetValue(warmup)), r.GetValue(rounds), r.GetValue(perRound));
            var result = TemplateBench.Run(chat, settings);
            if (r.GetValue(json))
            {
                output.WriteLine(Json.Object(w =>
                {
                    w.WriteString("engine", "orleans-infer");
                    w.WriteString("template", r.GetValue(template) ?? r.GetValue(model));
                    w.WriteNumber("messages", settings.Messages);
                    w.WriteNumber("rounds", settings.Rounds);
                    w.WriteNumber("renders_per_round", settings.RendersPerRound);
                    w.WriteNumber("warmup_s", settings.Warmup.TotalSeconds);
                    w.WriteNumber("output_chars", result.OutputChars);
                    w.WriteNumber("median_us", Math.Round(result.MedianMicroseconds, 2));
                    w.WriteNumber("p10_us", Math.Round(result.P10Microseconds, 2));
                    w.WriteNumber("p90_us", Math.Round(result.P90Microseconds, 2));
                }));
            }
            else
            {
                output.WriteLine($"{settings.Messages} messages, {result.OutputChars} chars: median {result.MedianMicroseconds:F1} µs per render (p10 {result.P10Microseconds:F1}, p90 {result.P90Microseconds:F1})");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Throughput(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model(required: false);
        model.Description = "Model file; with --cluster redis://... or localhost, the model id the cluster serves (default: its only one)";
        var cluster = new Option<string?>("--cluster") { Description = "Send the workload through a cluster: in-process (a one-silo cluster started here), localhost[:PORT] or redis://HOST:PORT[/CLUSTER_ID]" };
        var tokenizer = CommonOptions.Tokenizer();
        var requests = new Option<int>("--num-prompts") { Description = "Requests in the workload", DefaultValueFactory = _ => 64 };
        var inputLen = new Option<string>("--input-len") { Description = "Prompt length range MIN:MAX (uniform)", DefaultValueFactory = _ => "16:256" };
        var outputLen = new Option<string>("--output-len") { Description = "Output length range MIN:MAX (uniform)", DefaultValueFactory = _ => "16:256" };
        var seed = new Option<int>("--seed") { Description = "Seed of the workload", DefaultValueFactory = _ => 1 };
        var batching = new Option<string>("--batching") { Description = "continuous (the engine) or static (padded fixed batches, the baseline)", DefaultValueFactory = _ => "continuous" };
        batching.AcceptOnlyFromAmong("continuous", "static");
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var limits = new EngineLimitOptions();
        var command = new Command("throughput", "Output tokens/s of a fixed synthetic workload, continuous or static batching");
        foreach (var o in new Option[] { model, tokenizer, cluster, requests, inputLen, outputLen, seed, batching, threads, json }) command.Options.Add(o);
        limits.AddTo(command);

        command.SetAction(async (r, ct) =>
        {
            var workload = new ThroughputWorkload(r.GetValue(requests), Range(r.GetValue(inputLen)!, "--input-len"), Range(r.GetValue(outputLen)!, "--output-len"), r.GetValue(seed));
            if (workload.Requests < 1) throw new CliException("--num-prompts must be at least 1");
            var threadCount = r.GetValue(threads);
            if (r.GetValue(cluster) is { } clusterAddress)
            {
                if (r.GetValue(batching) == "static") throw new CliException("--batching static runs on a local engine only; drop --cluster or --batching");
                return await ThroughputOnCluster(r, clusterAddress, r.GetValue(model), r.GetValue(tokenizer), workload, threadCount, limits, r.GetValue(json), r.GetValue(inputLen)!, r.GetValue(outputLen)!, output, error, ct);
            }
            if (r.GetValue(model) is null) throw new CliException("--model is required (a model file), unless --cluster names a cluster");
            using var loaded = LoadedModel.Load(r.GetValue(model)!, r.GetValue(tokenizer), limits.ToRunnerOptions(r, threadCount), error);
            if (workload.InputLength.Max + workload.OutputLength.Max > loaded.Config.ContextLength)
                throw new CliException($"the longest request ({workload.InputLength.Max} + {workload.OutputLength.Max} tokens) exceeds the model's context of {loaded.Config.ContextLength}");
            var continuous = r.GetValue(batching) == "continuous";
            var stats = ThroughputBench.Run(loaded.Runner!, loaded.Tokenizer, limits.ToEngineOptions(r), workload.Build(loaded.Config.VocabSize), continuous);
            var line = Json.Object(w =>
            {
                w.WriteString("engine", "orleans-infer");
                w.WriteString("backend", loaded.Backend);
                w.WriteString("device", loaded.Runner!.DeviceName);
                w.WriteString("model", Path.GetFileName(loaded.File.Path));
                w.WriteString("batching", continuous ? "continuous" : "static");
                w.WriteNumber("threads", threadCount);
                w.WriteNumber("requests", stats.Requests);
                w.WriteString("input_len", r.GetValue(inputLen));
                w.WriteString("output_len", r.GetValue(outputLen));
                w.WriteNumber("seed", workload.Seed);
                w.WriteNumber("elapsed_s", Math.Round(stats.ElapsedSeconds, 3));
                w.WriteNumber("prompt_tokens", stats.PromptTokens);
                w.WriteNumber("output_tokens", stats.OutputTokens);
                w.WriteNumber("output_tokens_per_s", Math.Round(stats.OutputTokensPerSecond, 2));
                w.WriteNumber("total_tokens_per_s", Math.Round(stats.TotalTokensPerSecond, 2));
                w.WriteNumber("kv_utilization", Math.Round(stats.KvUtilization, 4));
                w.WriteNumber("steps", stats.Steps);
                w.WriteNumber("preemptions", stats.Preemptions);
                w.WriteNumber("mean_batch_sequences", Math.Round(stats.MeanBatchSequences, 2));
                w.WriteNumber("kv_blocks", loaded.Runner.KvCache.BlockCount);
                PeakMemory.WriteTo(w);
            });
            if (r.GetValue(json)) output.WriteLine(line);
            else
            {
                output.WriteLine($"{(continuous ? "continuous" : "static")} batching: {stats.Requests} requests in {stats.ElapsedSeconds:F2} s");
                output.WriteLine($"  {stats.OutputTokensPerSecond:F1} output tokens/s, {stats.TotalTokensPerSecond:F1} total tokens/s, KV utilization {stats.KvUtilization:P1}, {stats.Preemptions} preemption(s), {stats.MeanBatchSequences:F1} sequences per step");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> ThroughputOnCluster(System.CommandLine.ParseResult r, string cluster, string? model, string? tokenizer, ThroughputWorkload workload,
        int threads, EngineLimitOptions limits, bool asJson, string inputLen, string outputLen, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var inProcess = cluster == ClusterConnection.InProcess
            ? GenerateCommand.InProcessSilo(model ?? throw new CliException("--cluster in-process needs --model (the model file its silo serves)"), tokenizer, limits.ToRunnerOptions(r, threads), threads)
            : null;
        await using var connection = await ClusterConnection.OpenAsync(cluster, inProcess, error, ct);
        var grains = connection.Grains;
        var modelId = inProcess?.ResolvedModelId ?? await ClusterModels.ResolveAsync(grains, model, ct);
        var vocab = (await ClusterModels.TokenizerAsync(grains, modelId)).VocabularySize;
        var workers = await grains.GetGrain<IRouterGrain>(modelId).GetWorkers();
        var context = workers.Length == 0 ? int.MaxValue : workers.Min(w => w.ContextLength);
        {
            if (workload.InputLength.Max + workload.OutputLength.Max > context)
                throw new CliException($"the longest request ({workload.InputLength.Max} + {workload.OutputLength.Max} tokens) exceeds the model's context of {context}");
            var stats = await ClusterThroughputBench.RunAsync(connection.Streams, modelId, workload.Build(vocab), connection.Engines);
            var line = Json.Object(w =>
            {
                w.WriteString("engine", "orleans-infer");
                w.WriteString("cluster", cluster);
                w.WriteString("model", modelId);
                w.WriteString("batching", "continuous");
                w.WriteNumber("threads", threads);
                w.WriteNumber("requests", stats.Requests);
                w.WriteString("input_len", inputLen);
                w.WriteString("output_len", outputLen);
                w.WriteNumber("seed", workload.Seed);
                w.WriteNumber("elapsed_s", Math.Round(stats.ElapsedSeconds, 3));
                w.WriteNumber("prompt_tokens", stats.PromptTokens);
                w.WriteNumber("output_tokens", stats.OutputTokens);
                w.WriteNumber("output_tokens_per_s", Math.Round(stats.OutputTokensPerSecond, 2));
                w.WriteNumber("total_tokens_per_s", Math.Round(stats.TotalTokensPerSecond, 2));
                if (double.IsNaN(stats.KvUtilization)) w.WriteNull("kv_utilization");
                else w.WriteNumber("kv_utilization", Math.Round(stats.KvUtilization, 4));
                w.WriteNumber("steps", stats.Steps);
                w.WriteNumber("preemptions", stats.Preemptions);
            });
            if (asJson) output.WriteLine(line);
            else output.WriteLine($"cluster ({cluster}): {stats.Requests} requests in {stats.ElapsedSeconds:F2} s, {stats.OutputTokensPerSecond:F1} output tokens/s, {stats.TotalTokensPerSecond:F1} total tokens/s");
        }
        return ExitCodes.Ok;
    }

    private static Command Serve(TextWriter output)
    {
        var url = new Option<string>("--url") { Description = "The gateway: http://HOST:PORT (its HTTP port for openai, its gRPC port for grpc)", Required = true };
        var api = new Option<string>("--api") { Description = "openai (POST /v1/completions, SSE) or grpc (Inference.Generate)", DefaultValueFactory = _ => "openai" };
        // A validator rather than AcceptOnlyFromAmong, whose message spans several lines.
        api.Validators.Add(v => { if (v.GetValueOrDefault<string>() is not ("openai" or "grpc") and var value) v.AddError($"--api must be openai or grpc, got '{value}'"); });
        var model = new Option<string?>("--model", "-m") { Description = "Model id to request (default: the server's only model)" };
        var requests = new Option<int>("--num-prompts") { Description = "Requests in the workload", DefaultValueFactory = _ => 64 };
        var rate = new Option<string>("--request-rate") { Description = "Mean requests/s of Poisson arrivals, or inf to send all at once", DefaultValueFactory = _ => "inf" };
        var inputLen = new Option<string>("--input-len") { Description = "Prompt length range MIN:MAX (uniform)", DefaultValueFactory = _ => "16:256" };
        var outputLen = new Option<string>("--output-len") { Description = "Output length range MIN:MAX (uniform; exact: greedy with ignore_eos)", DefaultValueFactory = _ => "16:256" };
        var seed = new Option<int>("--seed") { Description = "Seed of the workload and the arrivals (the same workload as bench throughput)", DefaultValueFactory = _ => 1 };
        var vocab = new Option<int>("--vocab-size") { Description = "Prompt token ids are drawn from [3, N): the model's vocabulary size", DefaultValueFactory = _ => 512 };
        var apiKey = new Option<string?>("--api-key") { Description = "Sent as Authorization: Bearer KEY" };
        var concurrency = new Option<int?>("--max-concurrency") { Description = "Most requests in flight at once (default: no limit)" };
        var json = CommonOptions.Json();
        var command = new Command("serve", "TTFT, inter-token latency and throughput of a running gateway under Poisson arrivals (like vLLM benchmark_serving)");
        foreach (var o in new Option[] { url, api, model, requests, rate, inputLen, outputLen, seed, vocab, apiKey, concurrency, json }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            var workload = new ThroughputWorkload(r.GetValue(requests), Range(r.GetValue(inputLen)!, "--input-len"), Range(r.GetValue(outputLen)!, "--output-len"), r.GetValue(seed));
            if (workload.Requests < 1) throw new CliException("--num-prompts must be at least 1");
            if (r.GetValue(vocab) < 4) throw new CliException("--vocab-size must be at least 4 (ids are drawn from [3, N))");
            if (r.GetValue(concurrency) is < 1) throw new CliException("--max-concurrency must be at least 1");
            var settings = new ServeBenchSettings(r.GetValue(api) == "grpc" ? ServeApi.Grpc : ServeApi.OpenAi, ServeBenchArguments.Url(r.GetValue(url)!),
                r.GetValue(model), workload, ServeBenchArguments.Rate(r.GetValue(rate)!), r.GetValue(concurrency), r.GetValue(vocab), r.GetValue(apiKey));
            var report = await ServeBench.RunAsync(settings, ct);
            output.WriteLine(r.GetValue(json) ? report.ToJson() : report.ToText());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (int Min, int Max) Range(string text, string option)
    {
        var parts = text.Split(':');
        if (parts.Length is 1 or 2 && int.TryParse(parts[0], out var min) && int.TryParse(parts[^1], out var max) && min >= 1 && max >= min) return (min, max);
        throw new CliException($"{option} must be N or MIN:MAX with 1 <= MIN <= MAX, got '{text}'");
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
            var report = new LatencyReport("orleans-infer", loaded.Backend, loaded.Runner!.DeviceName, Path.GetFileName(loaded.File.Path), threadCount, settings, res);
            output.WriteLine(r.GetValue(json) ? report.ToJson() : report.ToText());
            return ExitCodes.Ok;
        });
        return command;
    }
}
