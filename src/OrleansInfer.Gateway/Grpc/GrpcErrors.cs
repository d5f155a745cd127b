using System.Globalization;
using Grpc.Core;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Gateway.Grpc;

/// <summary>
/// Turns the gateway's typed failures into gRPC statuses: the status code of each <see cref="GatewayErrorKind"/>, the
/// field at fault named in the message, and <c>retry-after-ms</c> in the trailers when trying again may succeed.
/// Messages are the exceptions' own; stack traces never reach the caller.
/// </summary>
public static class GrpcErrors
{
    /// <summary>The trailer telling the caller how long to wait before retrying (milliseconds).</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    public static StatusCode StatusOf(GatewayErrorKind kind) => kind switch
    {
        GatewayErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        GatewayErrorKind.NotSupported => StatusCode.Unimplemented,
        GatewayErrorKind.NotFound => StatusCode.NotFound,
        GatewayErrorKind.Overloaded => StatusCode.ResourceExhausted,
        GatewayErrorKind.Unavailable => StatusCode.Unavailable,
        GatewayErrorKind.Timeout => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };

    /// <summary>The status of <paramref name="e"/>; INVALID_ARGUMENT messages start with "field: ".</summary>
    public static RpcException ToRpc(GatewayException e)
    {
        var message = e.Message;
        if (e.Kind == GatewayErrorKind.InvalidArgument && !string.IsNullOrEmpty(e.Param) && !message.StartsWith(e.Param, StringComparison.Ordinal))
            message = $"{e.Param}: {message}";
        var trailers = new Metadata();
        // Overloaded always says when to come back (a client must not spin); Unavailable only when the cluster said so.
        var retry = e.RetryAfter ?? (e.Kind == GatewayErrorKind.Overloaded ? TimeSpan.FromSeconds(1) : null);
        if (retry is { } wait && e.Kind is GatewayErrorKind.Overloaded or GatewayErrorKind.Unavailable)
            trailers.Add(RetryAfterTrailer, ((long)wait.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        return new RpcException(new Status(StatusOf(e.Kind), message), trailers, message);
    }

    /// <summary>INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static RpcException Invalid(string field, string message) => ToRpc(GatewayException.Invalid(field, message));

    /// <summary>
    /// A chat template's refusal: a raised error is the template saying the conversation is invalid (its message
    /// as is); any other template failure is reported with its position so the template's author can find it.
    /// </summary>
    public static RpcException FromTemplate(TemplateException e) =>
        Invalid("messages", e is TemplateRaisedException ? e.Message : $"the chat template failed at {e.Describe()}");

    /// <summary>An <see cref="ArgumentException"/>'s message without the " (Parameter 'x')" suffix .NET appends.</summary>
    public static string MessageOf(ArgumentException e) =>
        e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;
}
