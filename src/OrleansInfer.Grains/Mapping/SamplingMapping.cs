using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Grains.Mapping;

/// <summary>
/// The one mapping between the engine's <see cref="SamplingParams"/> and the wire's <see cref="SamplingSpec"/>, used by
/// every side that crosses the wire (workers, the CLI, gateways). A test round-trips every property both ways, so a
/// field added to one side and not carried fails it.
/// </summary>
public static class SamplingMapping
{
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
}
