using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Grains.Mapping;

/// <summary>The wire request becomes the engine's request at the worker boundary (vLLM v1 style), resumed outputs included.</summary>
public static class RequestMapping
{
    public static GenerationRequest ToEngine(GenerateRequest r) => new(r.PromptTokens, SamplingMapping.ToEngine(r.Sampling))
    {
        Priority = r.Priority,
        Resumed = r.Resumed.Select(ToEngine).ToArray(),
        ReportProgress = r.ReportProgress,
    };

    public static ResumedOutput ToEngine(OutputProgress o) => new(o.Index, o.Tokens)
    {
        RngState = o.RngState is { Length: 4 } s ? (s[0], s[1], s[2], s[3]) : null,
        Finished = o.FinishReason is { } f ? FinishReasons.Parse(f) : null,
        CumulativeLogprob = o.CumulativeLogprob,
        Logprobs = o.Logprobs?.Select(ChunkMapping.ToEngine).ToArray(),
    };
}

/// <summary>The wire names of finish reasons.</summary>
public static class FinishReasons
{
    public static FinishReason Parse(string wireName) => wireName switch
    {
        "stop" => FinishReason.Stop,
        "length" => FinishReason.Length,
        _ => throw new ClusterRejectedException(ClusterRejection.InvalidRequest, $"unknown finish reason '{wireName}' (stop or length)"),
    };
}
