using System.Diagnostics;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Baselines;

namespace OrleansInfer.Cli.Bench;

/// <summary>
/// `bench serve`: the `bench throughput` workload sent to a running gateway over the OpenAI HTTP API or gRPC,
/// with Poisson arrivals, like vLLM's benchmark_serving. It measures what a client sees: time to first token,
/// inter-token latency, time per output token, end-to-end latency and the throughputs of the whole run.
/// </summary>
public static class ServeBench
{
    /// <summary>Probes the server (unreachable: exit 1), then sends the workload on its schedule and waits for every response.</summary>
    public static async Task<ServeBenchReport> RunAsync(ServeBenchSettings settings, CancellationToken ct)
    {
        await using IServeBenchClient client = settings.Api == ServeApi.Grpc
            ? new ServeBenchGrpcClient(settings.Url, settings.ApiKey)
            : new ServeBenchOpenAiClient(settings.Url, settings.ApiKey);
        var info = await client.ProbeAsync(settings.Model, ct);
        settings = settings with { Model = settings.Model ?? info.ModelId };
        var w = settings.Workload;
        if (info.MaxModelLen is { } context && w.InputLength.Max + w.OutputLength.Max > context)
            throw new CliException($"the longest request ({w.InputLength.Max} + {w.OutputLength.Max} tokens) exceeds the model's context of {context}");

        var requests = ServeBenchWorkload.Requests(settings);
        var arrivals = ServeBenchWorkload.Arrivals(requests.Count, settings.RequestRate, w.Seed);
        using var slots = settings.MaxConcurrency is { } c ? new SemaphoreSlim(c, c) : null;
        var tasks = new Task<RequestOutcome>[requests.Count];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < requests.Count; i++)
        {
            // Sleep until this request's arrival: the schedule is kept against the clock, so a slow send does not
            // push every later arrival back.
            var wait = arrivals[i] - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            tasks[i] = SendAsync(client, requests[i], settings.Model, slots, ct);
        }
        var outcomes = await Task.WhenAll(tasks);
        return ServeBenchReport.From(settings, outcomes, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private static async Task<RequestOutcome> SendAsync(IServeBenchClient client, WorkloadRequest request, string? model, SemaphoreSlim? slots, CancellationToken ct)
    {
        // The request arrives on schedule but waits for a slot, as in vLLM: the concurrency limit queues in the client.
        if (slots is not null) await slots.WaitAsync(ct);
        try
        {
            return await client.SendAsync(request, model, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One odd response must not abort the run: it is counted under its exception type.
            return RequestOutcome.Failed(e.GetType().Name);
        }
        finally
        {
            slots?.Release();
        }
    }
}
