using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Grains.Mapping;

/// <summary>Engine chunks to wire chunks (and log-probabilities both ways).</summary>
public static class ChunkMapping
{
    public static TokenChunk ToWire(GenerationChunk c, string worker) => new()
    {
        Index = c.Index,
        TokenIds = [.. c.TokenIds],
        Text = c.Text,
        FinishReason = c.FinishReason?.ToWireName(),
        Usage = c.Usage is { } u ? new UsageReport(u.PromptTokens, u.CompletionTokens, u.CachedPromptTokens) : null,
        RngState = c.RngState is { } s ? [s.Item1, s.Item2, s.Item3, s.Item4] : null,
        Worker = worker,
        Logprobs = c.Logprobs?.Select(ToWire).ToArray(),
        Progress = c.IsProgress,
        CumulativeLogprob = c.CumulativeLogprob,
    };

    public static TokenLogprobReport ToWire(TokenLogprobs l) =>
        new(l.TokenId, l.Logprob, [.. l.Top.Select(t => t.TokenId)], [.. l.Top.Select(t => t.Logprob)]);

    public static TokenLogprobs ToEngine(TokenLogprobReport l) =>
        new(l.TokenId, l.Logprob, l.TopTokenIds.Zip(l.TopLogprobs, (t, p) => new TokenLogprob(t, p)).ToArray());
}
