using OrleansInfer.Abstractions;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Client;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Grains.Workers;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `generate --cluster ...`: the prompts go through the router of a cluster as an Orleans client, all at once; the
/// results have the same form as local generation. Workers that hand requests off or die are recovered from
/// transparently; stderr notes where each prompt started, failed and resumed.
/// </summary>
internal static class ClusterGenerate
{
    public static async Task<IReadOnlyList<GenerationResult>> RunAsync(ClusterConnection cluster, string label, string? modelId, IReadOnlyList<string> prompts,
        SamplingParams sampling, TextWriter error, Action<int, TokenChunk>? onChunk, CancellationToken cancellationToken)
    {
        var grains = cluster.Grains;
        string model;
        Model.Tokenization.Tokenizer tokenizer;
        try
        {
            model = await ClusterModels.ResolveAsync(grains, modelId, cancellationToken);
            tokenizer = await ClusterModels.TokenizerAsync(grains, model);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message, ExitCodes.Failure);
        }
        error.WriteLine($"[cluster] {label}: model '{model}'");

        var spec = WireMapping.ToWire(sampling);
        var tasks = prompts.Select((prompt, i) => Run(grains, model, i, tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), spec, error, onChunk, cancellationToken)).ToList();
        try
        {
            return await Task.WhenAll(tasks);
        }
        catch (ClusterRejectedException e)
        {
            throw new CliException($"rejected by the cluster ({e.Reason}): {e.Message}", e.Reason == ClusterRejection.InvalidRequest ? ExitCodes.Usage : ExitCodes.Failure);
        }
    }

    private static async Task<GenerationResult> Run(IGrainFactory grains, string model, int index, int[] tokens, SamplingSpec spec,
        TextWriter error, Action<int, TokenChunk>? onChunk, CancellationToken ct)
    {
        var request = new GenerateRequest { RequestId = Guid.NewGuid().ToString("N"), PromptTokens = tokens, Sampling = spec };
        var outputs = new SortedDictionary<int, Output>();
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
            if (!outputs.TryGetValue(chunk.Index, out var o)) outputs[chunk.Index] = o = new Output();
            o.Add(chunk);
            received += chunk.TokenIds.Length;
            usage = chunk.Usage ?? usage;
            onChunk?.Invoke(index, chunk);
        }
        var results = outputs.Select(kv => kv.Value.Build(kv.Key)).ToList();
        return new GenerationResult(tokens, results, usage is null
            ? new UsageInfo(tokens.Length, results.Sum(r => r.TokenIds.Length), 0)
            : new UsageInfo(usage.PromptTokens, usage.CompletionTokens, usage.CachedPromptTokens));
    }

    /// <summary>One output's chunks added up.</summary>
    private sealed class Output
    {
        private readonly List<int> _tokens = [];
        private readonly System.Text.StringBuilder _text = new();
        private List<TokenLogprobs>? _logprobs;
        private FinishReason _finish = FinishReason.Length;
        private double _cumulative;

        public void Add(TokenChunk c)
        {
            _tokens.AddRange(c.TokenIds);
            _text.Append(c.Text);
            if (c.FinishReason == "stop") _finish = FinishReason.Stop;
            foreach (var l in c.Logprobs ?? [])
            {
                (_logprobs ??= []).Add(new TokenLogprobs(l.TokenId, l.Logprob, l.TopTokenIds.Zip(l.TopLogprobs, (t, p) => new TokenLogprob(t, p)).ToArray()));
                _cumulative += l.Logprob;
            }
        }

        public GenerationOutput Build(int index) => new(index, [.. _tokens], _text.ToString(), _finish, _cumulative, _logprobs);
    }
}
