using System.Diagnostics;
using OrleansInfer.Client;
using OrleansInfer.Gateway.StatusPage;

namespace OrleansInfer.Gateway.Telemetry;

/// <summary>
/// Starts the observation of generation requests (<see cref="GenAiRequest"/>) for both front-ends; what a finished
/// request leaves goes to <see cref="GenAiMetrics"/>, its span and <see cref="RecentRequests"/>.
/// </summary>
public sealed class GenAiTelemetry(GenAiMetrics metrics, RecentRequests recent, TimeProvider? time = null)
{
    internal GenAiMetrics Metrics { get; } = metrics;

    internal RecentRequests Recent { get; } = recent;

    internal TimeProvider Time { get; } = time ?? TimeProvider.System;

    /// <summary>
    /// Begins observing a request as it arrives; dispose it when the response has ended. <paramref name="errorTypeOf"/>
    /// names a failure as the front-end reports it (the OpenAI error code or type, the gRPC status name).
    /// </summary>
    public GenAiRequest Start(string operation, Func<Exception, string> errorTypeOf) => new(this, operation, errorTypeOf);

    /// <summary>
    /// Tells the gateway span of the request in flow that its stream went on elsewhere (the resilient client's
    /// recovery callback runs inside the request's flow, so the span is an ancestor of <see cref="Activity.Current"/>).
    /// Placement retries are not a resume: no token had been delivered.
    /// </summary>
    public static void OnRecovery(StreamRecovery recovery)
    {
        if (recovery.Kind == RecoveryKind.PlacementRetried) return;
        for (var span = Activity.Current; span is not null; span = span.Parent)
        {
            if (!ReferenceEquals(span.Source, GenAi.Source) || span.GetTagItem(GenAi.OperationName) is null) continue;
            span.AddEvent(new ActivityEvent(GenAi.ResumedEvent, tags: new ActivityTagsCollection
            {
                ["orleansinfer.recovery"] = recovery.Kind.ToString().ToLowerInvariant(),
                ["orleansinfer.worker"] = recovery.Worker,
                ["orleansinfer.tokens_delivered"] = recovery.TokensDelivered,
                [GenAi.ErrorType] = recovery.Error.GetType().FullName,
            }));
            return;
        }
    }
}
