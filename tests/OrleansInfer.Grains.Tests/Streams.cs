using OrleansInfer.Abstractions;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

/// <summary>Helpers to run and collect cluster streams, and the expected greedy outputs.</summary>
public static class Streams
{
    public sealed record Collected(List<int> Tokens, string Text, List<string> Workers, string? FinishReason);

    public static GenerateRequest Greedy(int[] prompt, int maxTokens = 64, bool ignoreEos = false) => new()
    {
        RequestId = Guid.NewGuid().ToString("N"),
        PromptTokens = prompt,
        Sampling = new SamplingSpec { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = ignoreEos },
    };

    /// <summary>Reads a stream to its end; <paramref name="onChunk"/> sees the running count of chunks.</summary>
    public static async Task<Collected> Collect(IAsyncEnumerable<TokenChunk> stream, Action<int>? onChunk = null)
    {
        var tokens = new List<int>();
        var workers = new List<string>();
        var text = new System.Text.StringBuilder();
        string? finish = null;
        var count = 0;
        await foreach (var c in stream)
        {
            tokens.AddRange(c.TokenIds);
            text.Append(c.Text);
            if (workers.Count == 0 || workers[^1] != c.Worker) workers.Add(c.Worker);
            finish = c.FinishReason ?? finish;
            onChunk?.Invoke(++count);
        }
        return new Collected(tokens, text.ToString(), workers, finish);
    }

    /// <summary>Greedy outputs of the prompts computed by a single in-process engine (the fault-free reference).</summary>
    public static async Task<List<int[]>> Reference(IEnumerable<int[]> prompts, int maxTokens = 64, bool ignoreEos = false)
    {
        await using var engine = await InferenceEngine.LoadAsync(SharedData.Stories260KGguf, new InferenceEngineOptions { Threads = 1 });
        var outputs = new List<int[]>();
        foreach (var p in prompts)
        {
            var r = await engine.Engine.GenerateAsync(new Engine.Generation.GenerationRequest(p, new Engine.Sampling.SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = ignoreEos }));
            outputs.Add(r.Output.TokenIds);
        }
        return outputs;
    }

    /// <summary>Four prompts: the two of the shared reference and two more (tokenized with stories260K's vocabulary).</summary>
    public static async Task<int[][]> FourPrompts()
    {
        await using var engine = await InferenceEngine.LoadAsync(SharedData.Stories260KGguf, new InferenceEngineOptions { Threads = 1, KvBlocks = 4 });
        return
        [
            SharedData.Reference.Cases[0].PromptTokenIds,
            SharedData.Reference.Cases[1].PromptTokenIds,
            engine.Tokenize("Lily and Ben went to the park. They saw a big dog"),
            engine.Tokenize("The little bird could not fly, so"),
        ];
    }
}
