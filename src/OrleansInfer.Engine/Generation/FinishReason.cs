namespace OrleansInfer.Engine.Generation;

/// <summary>Why a sequence stopped: an end-of-sequence token or stop condition, or a length limit (max_tokens or the context).</summary>
public enum FinishReason
{
    Stop,
    Length,
}

public static class FinishReasonExtensions
{
    /// <summary>The OpenAI-style wire name ("stop", "length").</summary>
    public static string ToWireName(this FinishReason reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
