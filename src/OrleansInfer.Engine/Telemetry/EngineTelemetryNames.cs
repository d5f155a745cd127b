namespace OrleansInfer.Engine.Telemetry;

/// <summary>
/// The names of the engine's telemetry: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/> named <see cref="SourceName"/> per process, their instruments, the
/// request span with its events, and the label keys. Hosts subscribe by these names (or the wildcard <c>OrleansInfer.*</c>).
/// </summary>
public static class EngineTelemetryNames
{
    /// <summary>The Meter and the ActivitySource.</summary>
    public const string SourceName = "OrleansInfer.Engine";

    public const string RequestsRunning = "orleansinfer.requests.running";
    public const string RequestsWaiting = "orleansinfer.requests.waiting";
    public const string KvCacheUsage = "orleansinfer.kv_cache.usage";
    public const string KvCacheBlocks = "orleansinfer.kv_cache.blocks";
    public const string Preemptions = "orleansinfer.preemptions";
    public const string PrefixCacheQueries = "orleansinfer.prefix_cache.queries";
    public const string PrefixCacheHits = "orleansinfer.prefix_cache.hits";
    public const string PromptTokens = "orleansinfer.prompt_tokens";
    public const string GenerationTokens = "orleansinfer.generation_tokens";
    public const string RequestsFinished = "orleansinfer.requests.finished";
    public const string QueueTime = "orleansinfer.request.queue_time";
    public const string PrefillTime = "orleansinfer.request.prefill_time";
    public const string DecodeTime = "orleansinfer.request.decode_time";
    public const string InterTokenLatency = "orleansinfer.request.inter_token_latency";
    public const string TimeToFirstToken = "orleansinfer.request.time_to_first_token";
    public const string RequestDuration = "orleansinfer.request.duration";

    /// <summary>The span of one request in the engine, from submission to its end (however it ends).</summary>
    public const string RequestSpan = "orleansinfer.engine.request";

    public const string QueuedEvent = "queued";
    public const string ScheduledEvent = "scheduled";
    public const string FirstTokenEvent = "first_token";
    public const string PreemptedEvent = "preempted";
    public const string FinishedEvent = "finished";

    public const string ModelLabel = "model";
    public const string WorkerLabel = "worker";
    public const string SiloLabel = "silo";
    public const string DeviceLabel = "device";

    /// <summary>On <see cref="KvCacheBlocks"/>: <c>used</c>, <c>free</c> (holding no cached prefix) or <c>cached</c> (free, still holding a prefix).</summary>
    public const string StateLabel = "state";

    /// <summary>On <see cref="RequestsFinished"/> and the finished event: <c>stop</c>, <c>length</c>, <c>abort</c> or <c>error</c>.</summary>
    public const string FinishReasonLabel = "finish_reason";

    /// <summary>Span attributes and event attributes.</summary>
    public const string RequestIdAttribute = "orleansinfer.request.id";
    public const string PromptTokensAttribute = "orleansinfer.prompt_tokens";
    public const string OutputTokensAttribute = "orleansinfer.output_tokens";
    public const string CachedTokensAttribute = "orleansinfer.cached_tokens";
    public const string PreemptionsAttribute = "orleansinfer.preemptions";
    public const string RecomputeAttribute = "orleansinfer.recompute";
}
