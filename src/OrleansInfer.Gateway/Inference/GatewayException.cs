namespace OrleansInfer.Gateway.Inference;

/// <summary>Why the gateway refuses or fails a call; each protocol maps it to its status (HTTP code, gRPC status).</summary>
public enum GatewayErrorKind
{
    /// <summary>A bad parameter (HTTP 400, INVALID_ARGUMENT); <see cref="GatewayException.Param"/> names it.</summary>
    InvalidArgument,

    /// <summary>A feature not offered yet (HTTP 400, UNIMPLEMENTED).</summary>
    NotSupported,

    /// <summary>An unknown model (HTTP 404, NOT_FOUND).</summary>
    NotFound,

    /// <summary>The queue bound or the cluster's capacity is reached (HTTP 503 with Retry-After, RESOURCE_EXHAUSTED).</summary>
    Overloaded,

    /// <summary>No worker serves the model (HTTP 503, UNAVAILABLE).</summary>
    Unavailable,

    /// <summary>The request took longer than the request timeout (HTTP 504, DEADLINE_EXCEEDED).</summary>
    Timeout,

    /// <summary>The request failed in the cluster (HTTP 500, INTERNAL).</summary>
    Internal,
}

/// <summary>A refusal or failure the caller is told about with its kind, a message and the parameter at fault.</summary>
public sealed class GatewayException(GatewayErrorKind kind, string message, string? param = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public GatewayErrorKind Kind { get; } = kind;

    /// <summary>The request parameter at fault (OpenAI's "param"), when there is one.</summary>
    public string? Param { get; } = param;

    /// <summary>When trying again may succeed (Retry-After, retry-after-ms).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public static GatewayException Invalid(string param, string message) => new(GatewayErrorKind.InvalidArgument, message, param);
}
