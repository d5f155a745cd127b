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

    /// <summary>
    /// A failure's <c>error.type</c> in telemetry: the gRPC status name it leaves as (NOT_FOUND, INVALID_ARGUMENT,
    /// CANCELLED, ...); the exception's type for anything unexpected (it leaves as INTERNAL).
    /// </summary>
    public static string ErrorTypeOf(Exception e) => e switch
    {
        RpcException r => NameOf(r.StatusCode),
        GatewayException g => NameOf(StatusOf(g.Kind)),
        OperationCanceledException => NameOf(StatusCode.Cancelled),
        _ => e.GetType().FullName ?? e.GetType().Name,
    };

    /// <summary>A status code as gRPC's documentation spells it: DeadlineExceeded is DEADLINE_EXCEEDED.</summary>
    public static string NameOf(StatusCode code)
    {
        var name = code.ToString();
        var upper = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) upper.Append('_');
            upper.Append(char.ToUpperInvariant(name[i]));
        }
        return upper.ToString();
    }

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
