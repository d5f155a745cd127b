namespace OrleansInfer.Engine.Sampling;

/// <summary>How one request picks its tokens. Defaults follow vLLM's (temperature 1, no truncation).</summary>
public sealed record SamplingParams
{
    /// <summary>0 is greedy (argmax); higher flattens the distribution.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 (or less) keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches P, in (0, 1].</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens less likely than MinP times the most likely one, in [0, 1].</summary>
    public float MinP { get; init; }

    /// <summary>Generated tokens at most.</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Makes sampling reproducible whatever else is in the batch; random when null.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Keep generating after the end-of-sequence token.</summary>
    public bool IgnoreEos { get; init; }

    public bool IsGreedy => Temperature == 0f;

    /// <summary>Throws <see cref="InvalidRequestException"/> naming the first bad field.</summary>
    public SamplingParams Validate()
    {
        if (!float.IsFinite(Temperature) || Temperature < 0) throw new InvalidRequestException("temperature", $"must be a finite number >= 0, got {Temperature}");
        if (!float.IsFinite(TopP) || TopP <= 0 || TopP > 1) throw new InvalidRequestException("top_p", $"must be in (0, 1], got {TopP}");
        if (!float.IsFinite(MinP) || MinP < 0 || MinP > 1) throw new InvalidRequestException("min_p", $"must be in [0, 1], got {MinP}");
        if (TopK < 0) throw new InvalidRequestException("top_k", $"must be >= 0 (0 disables it), got {TopK}");
        if (MaxTokens < 1) throw new InvalidRequestException("max_tokens", $"must be at least 1, got {MaxTokens}");
        return this;
    }
}
