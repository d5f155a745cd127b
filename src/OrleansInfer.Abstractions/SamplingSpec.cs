namespace OrleansInfer.Abstractions;

/// <summary>How a request samples: the wire form of the engine's SamplingParams, field for field.</summary>
[GenerateSerializer, Immutable]
public sealed record SamplingSpec
{
    [Id(0)] public float Temperature { get; init; } = 1f;
    [Id(1)] public int TopK { get; init; }
    [Id(2)] public float TopP { get; init; } = 1f;
    [Id(3)] public float MinP { get; init; }
    [Id(4)] public float RepetitionPenalty { get; init; } = 1f;
    [Id(5)] public float PresencePenalty { get; init; }
    [Id(6)] public float FrequencyPenalty { get; init; }
    [Id(7)] public int MaxTokens { get; init; } = 16;
    [Id(8)] public ulong? Seed { get; init; }
    [Id(9)] public bool IgnoreEos { get; init; }
    [Id(10)] public int[] StopTokenIds { get; init; } = [];
    [Id(11)] public string[] Stop { get; init; } = [];
    [Id(12)] public int N { get; init; } = 1;
    [Id(13)] public int? BestOf { get; init; }
    [Id(14)] public int BeamWidth { get; init; }
    [Id(15)] public float LengthPenalty { get; init; } = 1f;
    [Id(16)] public bool EarlyStopping { get; init; }
    [Id(17)] public int? Logprobs { get; init; }

    /// <summary>Sequences the request runs at once (beams, or best_of samples).</summary>
    public int Width => BeamWidth > 0 ? BeamWidth : BestOf ?? N;

    /// <summary>Outputs are streamed token by token (no beams, and every generated output is returned).</summary>
    public bool Streams => BeamWidth == 0 && Width == N;

    /// <summary>Progress can be resumed elsewhere mid-request (beam search restarts instead).</summary>
    public bool CanResume => BeamWidth == 0;
}
