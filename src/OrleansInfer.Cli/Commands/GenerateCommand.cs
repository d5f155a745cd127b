using System.CommandLine;
using System.Text.Json;
using OrleansInfer.Cli.Generation;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `generate`: runs one prompt or a file of prompts through the engine (or a cluster) as one continuous batch,
/// streaming text or printing JSON lines in input order, each as soon as those before it are done.
/// </summary>
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
            return await LocalGenerate.RunAsync(engine, loaded.Tokenizer, prompts, parameters, r.GetValue(json), output, error, ct);
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
            KvCacheDtype = OrleansInfer.Engine.Runner.KvCacheDataTypes.Name(runner.Cpu.KvCacheDataType),
            SiloPort = siloPort,
            PrimarySiloPort = siloPort,
            GatewayPort = FreePorts.Next(),
        }.Validate();
    }

    private static async Task<int> RunOnCluster(string cluster, string? modelId, List<string> prompts, SamplingParams parameters, bool asJson,
        TextWriter output, TextWriter error, CancellationToken ct, OrleansInfer.Silo.SiloOptions? inProcess = null)
    {
        await using var connection = await ClusterConnection.OpenAsync(cluster, inProcess, error, ct);
        return await ClusterGenerate.RunAsync(connection, cluster, modelId ?? inProcess?.ResolvedModelId, prompts, parameters, asJson, output, error, ct);
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
