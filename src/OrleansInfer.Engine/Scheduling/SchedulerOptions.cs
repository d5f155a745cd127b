namespace OrleansInfer.Engine.Scheduling;

/// <summary>Which waiting request goes first and which running request gives way when blocks run out.</summary>
public enum SchedulingPolicy
{
    /// <summary>First come, first served; the most recently admitted request is preempted first.</summary>
    Fcfs,

    /// <summary>Lower <c>Priority</c> values first (then arrival); the lowest-priority, most recently admitted is preempted first.</summary>
    Priority,
}

/// <summary>Per-step limits and the bounds of the waiting queue.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Tokens one step may compute (prompt chunks and decodes together); null takes the runner's maximum.</summary>
    public int? MaxNumBatchedTokens { get; init; }

    /// <summary>Sequences one step may carry; null takes the runner's maximum.</summary>
    public int? MaxNumSeqs { get; init; }

    public SchedulingPolicy Policy { get; init; } = SchedulingPolicy.Fcfs;

    /// <summary>Requests that may wait for admission; one more is rejected at once.</summary>
    public int MaxWaitingRequests { get; init; } = 4096;

    /// <summary>Prompt tokens that may wait for admission; a request beyond it is rejected at once.</summary>
    public long MaxQueuedTokens { get; init; } = 4L << 20;

    /// <summary>Reuse computed KV blocks of earlier prompts with the same prefix.</summary>
    public bool EnablePrefixCaching { get; init; } = true;

    public void Validate()
    {
        if (MaxNumBatchedTokens is < 1) throw new ArgumentOutOfRangeException(nameof(MaxNumBatchedTokens), MaxNumBatchedTokens, "must be at least 1");
        if (MaxNumSeqs is < 1) throw new ArgumentOutOfRangeException(nameof(MaxNumSeqs), MaxNumSeqs, "must be at least 1");
        if (MaxWaitingRequests < 1) throw new ArgumentOutOfRangeException(nameof(MaxWaitingRequests), MaxWaitingRequests, "must be at least 1");
        if (MaxQueuedTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueuedTokens), MaxQueuedTokens, "must be at least 1");
    }
}
