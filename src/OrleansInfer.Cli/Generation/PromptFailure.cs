using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Engine;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Cli.Infrastructure;

namespace OrleansInfer.Cli.Generation;

/// <summary>Why one prompt finally failed, as `generate` reports it: a stable type name and a one-line message.</summary>
internal sealed record PromptFailure(string Type, string Message)
{
    /// <summary>A bad request (the prompt or a parameter): exit code 2 when every failure is one.</summary>
    public bool IsInvalidRequest => Type == "invalid_request";

    public static PromptFailure Of(Exception e)
    {
        var (type, message) = e switch
        {
            InvalidRequestException r => ("invalid_request", r.Field == "prompt" ? $"invalid prompt: {r.Reason}" : $"invalid --{SamplingOptions.OptionName(r.Field)}: {r.Reason}"),
            ClusterRejectedException { Reason: ClusterRejection.InvalidRequest } c => ("invalid_request", $"rejected by the cluster: {c.Message}"),
            ClusterRejectedException { Reason: ClusterRejection.NoCapacity } c => ("no_capacity", $"the cluster is full: {c.Message}"),
            ClusterRejectedException c => ("no_workers", $"no worker available: {c.Message}"),
            ClusterStreamFailedException f => ("worker_failed", f.Message),
            WorkerFaultException w => ("worker_failed", w.Message),
            EngineFaultException f => ("engine_failed", f.Message),
            RequestRejectedException r => ("rejected", r.Message),
            OperationCanceledException => ("cancelled", "cancelled"),
            _ => ("error", $"{e.GetType().Name}: {e.Message}"),
        };
        return new PromptFailure(type, message.Split('\n')[0].TrimEnd());
    }
}
