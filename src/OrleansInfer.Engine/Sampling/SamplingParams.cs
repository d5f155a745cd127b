namespace OrleansInfer.Engine.Sampling;

/// <summary>How one request picks its tokens. Defaults follow vLLM's (temperature 1, no truncation, no penalties).</summary>
public sealed record SamplingParams
{
    /// <summary>0 is greedy (argmax); higher flattens the distribution.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches P, in (0, 1].</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens less likely than MinP times the most likely one, in [0, 1].</summary>
    public float MinP { get; init; }

    /// <summary>Divides positive (multiplies negative) logits of tokens already in the prompt or output; 1 is off.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Subtracted from the logit of every token that already appeared in the output, in [-2, 2].</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted once per earlier occurrence in the output, in [-2, 2].</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Generated tokens at most (per output).</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Makes sampling reproducible whatever else is in the batch; random when null.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Keep generating after the end-of-sequence token.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Token ids that end an output (besides EOS); the token is kept in the output's ids.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Strings that end an output when generated (matched across token boundaries, not included in the text).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Outputs returned for the prompt.</summary>
    public int N { get; init; } = 1;

    /// <summary>Outputs generated, of which the N with the highest cumulative log-probability are returned; null means N.</summary>
    public int? BestOf { get; init; }

    /// <summary>Beam search with this many beams when above 0 (needs temperature 0); N best beams are returned.</summary>
    public int BeamWidth { get; init; }

    /// <summary>Beam score = cumulative log-probability / length^LengthPenalty.</summary>
    public float LengthPenalty { get; init; } = 1f;

    /// <summary>Stop beam search as soon as BeamWidth finished hypotheses exist (otherwise when none can improve).</summary>
    public bool EarlyStopping { get; init; }

    /// <summary>Top-N log-probabilities reported per generated token (with the sampled token's own); null for none.</summary>
    public int? Logprobs { get; init; }

    public bool IsGreedy => Temperature == 0f;

    public bool IsBeamSearch => BeamWidth > 0;

    /// <summary>Sequences the request runs at once after its prompt: beams, or best_of samples.</summary>
    public int Width => IsBeamSearch ? BeamWidth : BestOf ?? N;

    /// <summary>Outputs are streamed token by token only when every generated output is returned.</summary>
    public bool Streams => !IsBeamSearch && Width == N;

    public const int MaxLogprobs = 20;
    public const int MaxWidth = 64;

    /// <summary>Throws <see cref="InvalidRequestException"/> naming the first bad field; <paramref name="vocabSize"/> checks stop token ids.</summary>
    public SamplingParams Validate(int? vocabSize = null)
    {
        if (!float.IsFinite(Temperature) || Temperature < 0) throw new InvalidRequestException("temperature", $"must be a finite number >= 0, got {Temperature}");
        if (!float.IsFinite(TopP) || TopP <= 0 || TopP > 1) throw new InvalidRequestException("top_p", $"must be in (0, 1], got {TopP}");
        if (!float.IsFinite(MinP) || MinP < 0 || MinP > 1) throw new InvalidRequestException("min_p", $"must be in [0, 1], got {MinP}");
        if (TopK < 0) throw new InvalidRequestException("top_k", $"must be >= 0 (0 disables it), got {TopK}");
        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0) throw new InvalidRequestException("repetition_penalty", $"must be a finite number > 0, got {RepetitionPenalty}");
        if (!float.IsFinite(PresencePenalty) || Math.Abs(PresencePenalty) > 2) throw new InvalidRequestException("presence_penalty", $"must be in [-2, 2], got {PresencePenalty}");
        if (!float.IsFinite(FrequencyPenalty) || Math.Abs(FrequencyPenalty) > 2) throw new InvalidRequestException("frequency_penalty", $"must be in [-2, 2], got {FrequencyPenalty}");
        if (MaxTokens < 1) throw new InvalidRequestException("max_tokens", $"must be at least 1, got {MaxTokens}");
        if (N < 1 || N > MaxWidth) throw new InvalidRequestException("n", $"must be in [1, {MaxWidth}], got {N}");
        if (BestOf is { } b && (b < N || b > MaxWidth)) throw new InvalidRequestException("best_of", $"must be in [n, {MaxWidth}], got {b}");
        if (BeamWidth < 0 || BeamWidth > MaxWidth) throw new InvalidRequestException("beam_width", $"must be in [0, {MaxWidth}], got {BeamWidth}");
        if (IsBeamSearch)
        {
            if (!IsGreedy) throw new InvalidRequestException("beam_width", $"beam search is deterministic: it needs temperature 0, got {Temperature}");
            if (N > BeamWidth) throw new InvalidRequestException("n", $"must not exceed beam_width {BeamWidth}, got {N}");
            if (BestOf is not null) throw new InvalidRequestException("best_of", "does not combine with beam search");
            if (!float.IsFinite(LengthPenalty)) throw new InvalidRequestException("length_penalty", $"must be finite, got {LengthPenalty}");
        }
        if (Logprobs is { } l && (l < 0 || l > MaxLogprobs)) throw new InvalidRequestException("logprobs", $"must be in [0, {MaxLogprobs}], got {l}");
        foreach (var s in Stop)
        {
            if (string.IsNullOrEmpty(s)) throw new InvalidRequestException("stop", "stop strings must not be empty");
        }
        foreach (var t in StopTokenIds)
        {
            if (t < 0 || (vocabSize is { } v && t >= v)) throw new InvalidRequestException("stop_token_ids", $"token id {t} is not in the vocabulary{(vocabSize is { } vs ? $" of {vs}" : "")}");
        }
        return this;
    }
}
