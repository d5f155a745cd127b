using Microsoft.Extensions.Hosting;
using OrleansInfer.Abstractions;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Client;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `generate --cluster ...`: the prompts go through the router of a running cluster as an Orleans client, all at
/// once; the output is the same as local generation. Workers that hand requests off or die are recovered from
/// transparently; stderr notes where each prompt started and moved.
/// </summary>
internal static class ClusterGenerate
{
    /// <summary>One prompt's result: its outputs by index (several for n &gt; 1 or beams) and usage.</summary>
    public sealed record Output(string Prompt, int[] PromptTokens, IReadOnlyList<OutputText> Outputs, UsageReport? Usage);

    public sealed record OutputText(int Index, List<int> Tokens, string Text, string FinishReason);

    /// <summary>Runs every prompt through the cluster at once; <paramref name="inProcess"/> (for "--cluster in-process") is a silo to start here first.</summary>
    public static async Task<IReadOnlyList<Output>> RunAsync(string cluster, string? modelId, IReadOnlyList<string> prompts, SamplingParams sampling,
        TextWriter error, Action<int, TokenChunk>? onChunk, CancellationToken cancellationToken, OrleansInfer.Silo.SiloOptions? inProcess = null)
    {
        IHost host;
        if (inProcess is not null)
        {
            error.WriteLine($"starting a one-silo cluster in this process (localhost clustering, silo port {inProcess.SiloPort})");
            host = await Bench.ClusterThroughputBench.StartInProcessAsync(inProcess, cancellationToken);
            modelId ??= inProcess.ResolvedModelId;
        }
        else
        {
            ClusterEndpoint endpoint;
            try
            {
                endpoint = ClusterEndpoint.Parse(cluster);
            }
            catch (FormatException e)
            {
                throw new CliException($"invalid --cluster: {e.Message}");
            }
            host = await ConnectAsync(endpoint, cancellationToken);
        }

        using var _ = host;
        var grains = (IGrainFactory)host.Services.GetService(typeof(IClusterClient))!;
        string model;
        Tokenizer tokenizer;
        try
        {
            model = await ClusterModels.ResolveAsync(grains, modelId, cancellationToken);
            tokenizer = await ClusterModels.TokenizerAsync(grains, model);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message, ExitCodes.Failure);
        }
        error.WriteLine($"[cluster] {cluster}: model '{model}'");

        var spec = OrleansInfer.Grains.Workers.WireMapping.ToWire(sampling);
        var tasks = prompts.Select((prompt, i) => Run(grains, model, i, prompt, tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), spec, error, onChunk, cancellationToken)).ToList();
        try
        {
            return await Task.WhenAll(tasks);
        }
        catch (ClusterRejectedException e)
        {
            throw new CliException($"rejected by the cluster ({e.Reason}): {e.Message}", e.Reason == ClusterRejection.InvalidRequest ? ExitCodes.Usage : ExitCodes.Failure);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<Output> Run(IGrainFactory grains, string model, int index, string prompt, int[] tokens, SamplingSpec spec,
        TextWriter error, Action<int, TokenChunk>? onChunk, CancellationToken ct)
    {
        var request = new GenerateRequest { RequestId = Guid.NewGuid().ToString("N"), PromptTokens = tokens, Sampling = spec };
        var outputs = new SortedDictionary<int, (List<int> Tokens, System.Text.StringBuilder Text, string? Finish)>();
        string? worker = null;
        var received = 0;
        UsageReport? usage = null;
        void Recovering(string failed, Exception e)
        {
            lock (error) error.WriteLine($"[cluster] prompt {index}: worker {failed} failed after {received} token(s) ({e.GetType().Name}: {e.Message.Split('\n')[0]}); resuming elsewhere");
        }

        await foreach (var chunk in grains.GenerateAsync(model, request, ct, onRecovery: Recovering))
        {
            if (chunk.Worker != worker)
            {
                lock (error) error.WriteLine(worker is null ? $"[cluster] prompt {index}: first token from worker {chunk.Worker}" : $"[cluster] prompt {index}: resumed on worker {chunk.Worker} after {received} token(s)");
                worker = chunk.Worker;
            }
            if (!outputs.TryGetValue(chunk.Index, out var o)) outputs[chunk.Index] = o = ([], new System.Text.StringBuilder(), null);
            o.Tokens.AddRange(chunk.TokenIds);
            o.Text.Append(chunk.Text);
            outputs[chunk.Index] = o with { Finish = chunk.FinishReason ?? o.Finish };
            received += chunk.TokenIds.Length;
            usage = chunk.Usage ?? usage;
            onChunk?.Invoke(index, chunk);
        }
        return new Output(prompt, tokens, outputs.Select(kv => new OutputText(kv.Key, kv.Value.Tokens, kv.Value.Text.ToString(), kv.Value.Finish ?? "length")).ToList(), usage);
    }

    private static async Task<IHost> ConnectAsync(ClusterEndpoint endpoint, CancellationToken ct)
    {
        try
        {
            return await endpoint.ConnectAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException($"cannot reach the cluster at {(endpoint.Redis is null ? $"localhost:{endpoint.LocalGatewayPort}" : $"redis://{endpoint.Redis}")}: {e.Message}", ExitCodes.Failure);
        }
    }
}
