namespace OrleansInfer.Engine;

/// <summary>A request the engine refuses: a bad parameter (named by <see cref="Field"/>) or a prompt that can never fit.</summary>
public sealed class InvalidRequestException(string field, string reason) : ArgumentException($"{field}: {reason}")
{
    /// <summary>The request field at fault (e.g. "temperature", "max_tokens", "prompt").</summary>
    public string Field { get; } = field;

    /// <summary>What is wrong with the field, without its name.</summary>
    public string Reason { get; } = reason;
}
