using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Grains.Workers;

/// <summary>Wire types to engine types at the worker boundary (the wire request becomes an engine request here) and back.</summary>
public static class WireMapping
{
    public static GenerationRequest ToEngine(GenerateRequest r) => new(r.PromptTokens, ToEngine(r.Sampling))
    {
        Priority = r.Priority,
        ResumeTokens = r.ResumeTokens,
        RngState = r.RngState is { Length: 4 } s ? (s[0], s[1], s[2], s[3]) : null,
    };

    public static SamplingParams ToEngine(SamplingSpec s) => new()
    {
        Temperature = s.Temperature,
        TopK = s.TopK,
        TopP = s.TopP,
        MinP = s.MinP,
        RepetitionPenalty = s.RepetitionPenalty,
        PresencePenalty = s.PresencePenalty,
        FrequencyPenalty = s.FrequencyPenalty,
        MaxTokens = s.MaxTokens,
        Seed = s.Seed,
        IgnoreEos = s.IgnoreEos,
        StopTokenIds = s.StopTokenIds,
        Stop = s.Stop,
        N = s.N,
        BestOf = s.BestOf,
        BeamWidth = s.BeamWidth,
        LengthPenalty = s.LengthPenalty,
        EarlyStopping = s.EarlyStopping,
        Logprobs = s.Logprobs,
    };

    public static SamplingSpec ToWire(SamplingParams p) => new()
    {
        Temperature = p.Temperature,
        TopK = p.TopK,
        TopP = p.TopP,
        MinP = p.MinP,
        RepetitionPenalty = p.RepetitionPenalty,
        PresencePenalty = p.PresencePenalty,
        FrequencyPenalty = p.FrequencyPenalty,
        MaxTokens = p.MaxTokens,
        Seed = p.Seed,
        IgnoreEos = p.IgnoreEos,
        StopTokenIds = [.. p.StopTokenIds],
        Stop = [.. p.Stop],
        N = p.N,
        BestOf = p.BestOf,
        BeamWidth = p.BeamWidth,
        LengthPenalty = p.LengthPenalty,
        EarlyStopping = p.EarlyStopping,
        Logprobs = p.Logprobs,
    };

    public static TokenChunk ToWire(GenerationChunk c, string worker) => new()
    {
        Index = c.Index,
        TokenIds = [.. c.TokenIds],
        Text = c.Text,
        FinishReason = c.FinishReason?.ToWireName(),
        Usage = c.Usage is { } u ? new UsageReport(u.PromptTokens, u.CompletionTokens, u.CachedPromptTokens) : null,
        RngState = c.RngState is { } s ? [s.Item1, s.Item2, s.Item3, s.Item4] : null,
        Worker = worker,
        Logprobs = c.Logprobs?.Select(l => new TokenLogprobReport(l.TokenId, l.Logprob, [.. l.Top.Select(t => t.TokenId)], [.. l.Top.Select(t => t.Logprob)])).ToArray(),
    };
}
