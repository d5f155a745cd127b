namespace OrleansInfer.Client;

/// <summary>How a <see cref="ClusterStreamClient"/> rides out failures. Every limit is bounded; nothing retries forever.</summary>
public sealed record ClusterStreamOptions
{
    /// <summary>
    /// How long a request may go without progress (no worker found, workers failing) before it fails with the last
    /// error; any delivered token starts the period again.
    /// </summary>
    public TimeSpan RetryDeadline { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// One placement call may take this long before it is retried (its router may sit on a silo that stopped answering).
    /// Longer than the routers' own wait for a live worker (5 s by default), so a router that is waiting is not abandoned.
    /// </summary>
    public TimeSpan PlacementCallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A worker that sends nothing for this long (not even the heartbeat it sends each second it has no token) is
    /// taken for dead and the request resumes elsewhere: quicker than Orleans' 30 s response timeout.
    /// </summary>
    public TimeSpan SilenceLimit { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After the client loses a gateway, a stream that hears nothing for this long is re-attached to its worker through
    /// another gateway (its messages went through the lost one); the worker itself is fine.
    /// </summary>
    public TimeSpan ReattachAfterGatewayLoss { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>Worker failures one request survives before it fails.</summary>
    public int MaxRecoveries { get; init; } = 8;

    /// <summary>Re-attachments to the same worker one request may make (gateway losses).</summary>
    public int MaxReattachments { get; init; } = 4;

    /// <summary>Hand-offs (rebalancing, drains) one request follows before it counts them as failures.</summary>
    public int MaxMoves { get; init; } = 16;

    /// <summary>The first wait between placement retries; each retry doubles it up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The clock (tests use a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public ClusterStreamOptions Validate()
    {
        static void Positive(TimeSpan t, string name)
        {
            if (t <= TimeSpan.Zero) throw new ArgumentException($"{name} must be positive, got {t}", name);
        }

        Positive(RetryDeadline, nameof(RetryDeadline));
        Positive(PlacementCallTimeout, nameof(PlacementCallTimeout));
        Positive(SilenceLimit, nameof(SilenceLimit));
        Positive(ReattachAfterGatewayLoss, nameof(ReattachAfterGatewayLoss));
        Positive(InitialBackoff, nameof(InitialBackoff));
        if (MaxBackoff < InitialBackoff) throw new ArgumentException($"{nameof(MaxBackoff)} must be at least {nameof(InitialBackoff)}", nameof(MaxBackoff));
        if (MaxRecoveries < 0) throw new ArgumentException($"{nameof(MaxRecoveries)} must not be negative", nameof(MaxRecoveries));
        if (MaxReattachments < 0) throw new ArgumentException($"{nameof(MaxReattachments)} must not be negative", nameof(MaxReattachments));
        if (MaxMoves < 0) throw new ArgumentException($"{nameof(MaxMoves)} must not be negative", nameof(MaxMoves));
        return this;
    }
}

/// <summary>What a stream recovered from: the worker, the error, and what it did about it.</summary>
public sealed record StreamRecovery(string Worker, Exception Error, RecoveryKind Kind, int TokensDelivered);

public enum RecoveryKind
{
    /// <summary>The worker failed or went silent: the rest of the request runs elsewhere.</summary>
    Resumed,

    /// <summary>The client lost the gateway the stream went through: the same worker goes on through another.</summary>
    Reattached,

    /// <summary>The worker handed the request off (rebalancing or drain).</summary>
    Moved,

    /// <summary>No worker could take the request yet (none live, the cluster full, the router unreachable): placement is retried.</summary>
    PlacementRetried,
}
