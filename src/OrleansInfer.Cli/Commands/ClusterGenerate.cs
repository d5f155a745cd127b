using OrleansInfer.Abstractions;
using OrleansInfer.Cli.Generation;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Client;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Grains.Mapping;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `generate --cluster ...`: the prompts go through the router of a cluster as an Orleans client, all at once; the
/// results have the same form as local generation and are written as soon as those before them are. Workers that
/// hand requests off or die, and gateways that go, are recovered from transparently; stderr notes where each prompt
/// started, failed and resumed.
/// </summary>
internal static class ClusterGenerate
{
    public static async Task<int> RunAsync(ClusterConnection cluster, string label, string? modelId, IReadOnlyList<string> prompts,
        SamplingParams sampling, bool asJson, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var grains = cluster.Grains;
        string model;
        Model.Tokenization.Tokenizer tokenizer;
        try
        {
            model = await ClusterModels.ResolveAsync(grains, modelId, ct);
            tokenizer = await ClusterModels.TokenizerAsync(grains, model);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message, ExitCodes.Failure);
        }
        error.WriteLine($"[cluster] {label}: model '{model}'");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var spec = SamplingMapping.ToWire(sampling);
        var log = new ClusterStreamLog(error);
        int exitCode;
        long generated;
        if (!asJson && prompts.Count == 1 && sampling.Streams && sampling.N == 1)
        {
            var request = Request(tokenizer.Encode(prompts[0], addSpecial: true, parseSpecial: true), spec);
            (exitCode, generated) = await StreamedText.WriteAsync(prompts[0], Pieces(cluster.Streams, model, request, log, ct), output, error);
        }
        else
        {
            var results = prompts.Select((p, i) => Run(cluster.Streams, model, i, tokenizer.Encode(p, addSpecial: true, parseSpecial: true), spec, log, ct)).ToList();
            (exitCode, generated) = await OrderedResultWriter.WriteAsync(prompts, results, asJson, output, error);
        }
        error.WriteLine($"[{prompts.Count} prompt(s), {generated} tokens in {clock.Elapsed.TotalSeconds:F2} s through the cluster]");
        return exitCode;
    }

    private static GenerateRequest Request(int[] tokens, SamplingSpec spec) => new() { RequestId = Guid.NewGuid().ToString("N"), PromptTokens = tokens, Sampling = spec };

    private static async IAsyncEnumerable<(string, int)> Pieces(ClusterStreamClient streams, string model, GenerateRequest request, ClusterStreamLog log,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var watcher = log.For(0);
        await foreach (var chunk in streams.GenerateAsync(model, request, ct, onRecovery: watcher.Recovered))
        {
            watcher.Received(chunk);
            yield return (chunk.Text, chunk.TokenIds.Length);
        }
    }

    private static async Task<GenerationResult> Run(ClusterStreamClient streams, string model, int index, int[] tokens, SamplingSpec spec, ClusterStreamLog log, CancellationToken ct)
    {
        await Task.Yield(); // every prompt starts at once; the caller writes results in order
        var outputs = new SortedDictionary<int, ClusterOutput>();
        var watcher = log.For(index);
        UsageReport? usage = null;
        await foreach (var chunk in streams.GenerateAsync(model, Request(tokens, spec), ct, onRecovery: watcher.Recovered))
        {
            watcher.Received(chunk);
            if (!outputs.TryGetValue(chunk.Index, out var o)) outputs[chunk.Index] = o = new ClusterOutput();
            o.Add(chunk);
            usage = chunk.Usage ?? usage;
        }
        var results = outputs.Select(kv => kv.Value.Build(kv.Key)).ToList();
        return new GenerationResult(tokens, results, usage is null
            ? new UsageInfo(tokens.Length, results.Sum(r => r.TokenIds.Length), 0)
            : new UsageInfo(usage.PromptTokens, usage.CompletionTokens, usage.CachedPromptTokens));
    }
}
