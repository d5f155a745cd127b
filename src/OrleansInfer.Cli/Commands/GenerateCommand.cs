using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Cli.Commands;

/// <summary>`generate`: runs one prompt or a file of prompts through the engine as one continuous batch, streaming text or printing JSON lines.</summary>
internal static class GenerateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model(required: false);
        model.Description = "Model file (GGUF or llama2.c .bin); with --cluster, the id of the model the cluster serves (default: its only one)";
        var tokenizer = CommonOptions.Tokenizer();
        var cluster = new Option<string?>("--cluster") { Description = "Run through a cluster's router as an Orleans client: in-process (a one-silo localhost cluster started here, serving --model), localhost[:GATEWAY_PORT] or redis://HOST:PORT[/CLUSTER_ID]" };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Prompt text" };
        var promptsFile = new Option<string?>("--prompts-file") { Description = "JSON lines file, each line a JSON string prompt" };
        var sampling = new SamplingOptions();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var limits = new EngineLimitOptions();

        var command = new Command("generate", "Generate text from a prompt or a file of prompts");
        foreach (var o in new Option[] { model, tokenizer, cluster, prompt, promptsFile, json, threads }) command.Options.Add(o);
        sampling.AddTo(command);
        limits.AddTo(command);

        command.SetAction(async (r, ct) =>
        {
            var prompts = ReadPrompts(r.GetValue(prompt), r.GetValue(promptsFile));
            var parameters = sampling.Read(r);
            if (r.GetValue(cluster) is { } clusterAddress)
            {
                OrleansInfer.Silo.SiloOptions? inProcess = null;
                if (clusterAddress == "in-process")
                {
                    if (r.GetValue(model) is not { } path) throw new CliException("--cluster in-process needs --model (the model file its silo serves)");
                    inProcess = InProcessSilo(path, r.GetValue(tokenizer), limits.ToRunnerOptions(r, r.GetValue(threads)), r.GetValue(threads));
                }
                return await RunOnCluster(clusterAddress, inProcess is null ? r.GetValue(model) : null, prompts, parameters, r.GetValue(json), output, error, ct, inProcess);
            }
            if (r.GetValue(model) is null) throw new CliException("--model is required (a model file), unless --cluster names a running cluster");
            using var loaded = LoadedModel.Load(r.GetValue(model)!, r.GetValue(tokenizer), limits.ToRunnerOptions(r, r.GetValue(threads)), error);
            await using var engine = new LlmEngine(loaded.Runner!, loaded.Tokenizer, limits.ToEngineOptions(r));
            var tok = loaded.Tokenizer;
            var asJson = r.GetValue(json);
            var clock = Stopwatch.StartNew();

            var streams = new List<RequestStream>();
            try
            {
                foreach (var p in prompts) streams.Add(engine.Submit(new GenerationRequest(tok.Encode(p, addSpecial: true, parseSpecial: true), parameters)));
            }
            catch (InvalidRequestException e)
            {
                foreach (var s in streams) s.Cancel();
                throw new CliException(e.Field == "prompt" ? $"invalid prompt: {e.Reason}" : $"invalid --{SamplingOptions.OptionName(e.Field)}: {e.Reason}");
            }

            GenerationResult[] results;
            var generated = 0;
            if (!asJson && prompts.Count == 1 && parameters.N == 1 && parameters.Streams)
            {
                // Stream the single prompt's continuation as it is generated.
                output.Write(prompts[0]);
                await foreach (var chunk in streams[0].WithCancellation(ct))
                {
                    output.Write(chunk.Text);
                    output.Flush();
                    generated += chunk.TokenIds.Count;
                }
                output.WriteLine();
                results = [];
            }
            else
            {
                results = await Task.WhenAll(streams.Select(s => s.CollectAsync(ct)));
            }

            Print(prompts, results, asJson, output);
            generated += results.Sum(x => x.Usage.CompletionTokens);
            var seconds = clock.Elapsed.TotalSeconds;
            error.WriteLine($"[{prompts.Count} prompt(s), {generated} tokens in {seconds:F2} s, {generated / seconds:F1} tokens/s on {engine.DeviceName}, {engine.TotalPreemptions} preemption(s)]");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The silo "--cluster in-process" starts: this model, these limits, localhost clustering on free ports.</summary>
    internal static OrleansInfer.Silo.SiloOptions InProcessSilo(string model, string? tokenizer, RunnerChoice runner, int threads)
    {
        var siloPort = FreePorts.Next();
        return new OrleansInfer.Silo.SiloOptions
        {
            Model = model,
            Tokenizer = tokenizer,
            Backend = runner.Backend,
            Threads = threads,
            KvBlocks = runner.Cpu.KvBlocks,
            BlockSize = runner.Cpu.BlockSize,
            MaxNumBatchedTokens = runner.Cpu.MaxBatchTokens,
            MaxNumSeqs = runner.Cpu.MaxBatchSequences,
            SiloPort = siloPort,
            PrimarySiloPort = siloPort,
            GatewayPort = FreePorts.Next(),
        }.Validate();
    }

    private static async Task<int> RunOnCluster(string cluster, string? modelId, List<string> prompts, SamplingParams parameters, bool asJson,
        TextWriter output, TextWriter error, CancellationToken ct, OrleansInfer.Silo.SiloOptions? inProcess = null)
    {
        var clock = Stopwatch.StartNew();
        var stream = !asJson && prompts.Count == 1 && parameters.Streams && parameters.N == 1;
        await using var connection = await ClusterConnection.OpenAsync(cluster, inProcess, error, ct);
        if (stream) output.Write(prompts[0]);
        var results = await ClusterGenerate.RunAsync(connection, cluster, modelId ?? inProcess?.ResolvedModelId, prompts, parameters, error,
            stream ? (_, c) => { output.Write(c.Text); output.Flush(); } : null, ct);
        if (stream) output.WriteLine();
        else Print(prompts, results, asJson, output);
        var generated = results.Sum(r => r.Usage.CompletionTokens);
        error.WriteLine($"[{prompts.Count} prompt(s), {generated} tokens in {clock.Elapsed.TotalSeconds:F2} s through the cluster]");
        return ExitCodes.Ok;
    }

    /// <summary>One JSON line per prompt, or each output's text after its prompt, in input order.</summary>
    private static void Print(IReadOnlyList<string> prompts, IReadOnlyList<GenerationResult> results, bool asJson, TextWriter output)
    {
        for (var i = 0; i < results.Count; i++)
        {
            if (asJson)
            {
                output.WriteLine(ToJson(prompts[i], results[i]));
                continue;
            }
            foreach (var o in results[i].Outputs)
            {
                output.WriteLine(prompts[i] + o.Text);
                output.WriteLine();
            }
        }
    }

    private static string ToJson(string prompt, GenerationResult result) => Json.Object(w =>
    {
        var first = result.Output;
        w.WriteString("prompt", prompt);
        w.WriteInts("prompt_token_ids", result.PromptTokenIds);
        w.WriteInts("token_ids", first.TokenIds);
        w.WriteString("text", first.Text);
        w.WriteString("finish_reason", first.FinishReason.ToWireName());
        if (first.Logprobs is not null) WriteLogprobs(w, first.Logprobs);
        if (result.Outputs.Count > 1)
        {
            w.WriteStartArray("outputs");
            foreach (var o in result.Outputs)
            {
                w.WriteStartObject();
                w.WriteNumber("index", o.Index);
                w.WriteInts("token_ids", o.TokenIds);
                w.WriteString("text", o.Text);
                w.WriteString("finish_reason", o.FinishReason.ToWireName());
                w.WriteNumber("cumulative_logprob", Math.Round(o.CumulativeLogprob, 6));
                if (o.Logprobs is not null) WriteLogprobs(w, o.Logprobs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", result.Usage.PromptTokens);
        w.WriteNumber("completion_tokens", result.Usage.CompletionTokens);
        w.WriteNumber("cached_prompt_tokens", result.Usage.CachedPromptTokens);
        w.WriteEndObject();
    });

    private static void WriteLogprobs(Utf8JsonWriter w, IReadOnlyList<TokenLogprobs> logprobs)
    {
        w.WriteStartArray("logprobs");
        foreach (var l in logprobs)
        {
            w.WriteStartObject();
            w.WriteNumber("token_id", l.TokenId);
            w.WriteNumber("logprob", Math.Round(l.Logprob, 6));
            w.WriteStartArray("top");
            foreach (var t in l.Top)
            {
                w.WriteStartObject();
                w.WriteNumber("token_id", t.TokenId);
                w.WriteNumber("logprob", Math.Round(t.Logprob, 6));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static List<string> ReadPrompts(string? prompt, string? file)
    {
        if ((prompt is null) == (file is null)) throw new CliException("give exactly one of --prompt or --prompts-file");
        if (prompt is not null) return [prompt];
        if (!File.Exists(file)) throw new CliException($"prompts file not found: {file}");
        var prompts = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(file!))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                prompts.Add(JsonSerializer.Deserialize<string>(line) ?? throw new JsonException("null is not a prompt"));
            }
            catch (JsonException e)
            {
                throw new CliException($"{file}:{lineNumber}: each line must be a JSON string ({e.Message.Split('.')[0]})");
            }
        }
        if (prompts.Count == 0) throw new CliException($"prompts file {file} holds no prompts");
        return prompts;
    }
}
