using System.Diagnostics;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// Publishes the engine's state for other threads after every step: the KV pool, the load (queues, throughput,
/// prefix hashes, health). Written by the engine thread only; the snapshots are immutable.
/// </summary>
internal sealed class LoadPublisher
{
    private const int PrefixHashLimit = 4096;
    private const long PrefixHashRefreshMilliseconds = 250;

    private readonly EngineCore _core;
    private readonly long _bytesPerBlock;
    private readonly HealthMonitor _health;
    private volatile KvCacheStats _kv;
    private volatile EngineLoad _load;
    private ulong[] _prefixHashes = [];
    private long _prefixHashesAt;
    private double _tokensPerSecond;
    private long _lastStepTicks;

    public LoadPublisher(EngineCore core, long bytesPerBlock, HealthMonitor health)
    {
        _core = core;
        _bytesPerBlock = bytesPerBlock;
        _health = health;
        _kv = KvSnapshot();
        _load = LoadSnapshot();
    }

    public KvCacheStats KvCache => _kv;

    public EngineLoad Load => _load;

    /// <summary>Called on the engine thread after every publication (what waited for fresh snapshots may go on).</summary>
    public Action? Published { get; set; }

    /// <summary>Publishes the state after a step (null: none ran).</summary>
    public void Publish(EngineStepStats? step)
    {
        var now = Stopwatch.GetTimestamp();
        if (step is not null)
        {
            // Throughput over recent steps (exponential average of tokens per second).
            var seconds = _lastStepTicks == 0 ? step.StepMilliseconds / 1000 : (now - _lastStepTicks) / (double)Stopwatch.Frequency;
            var rate = seconds > 0 ? step.ScheduledTokens / seconds : 0;
            _tokensPerSecond = _tokensPerSecond == 0 ? rate : 0.9 * _tokensPerSecond + 0.1 * rate;
        }
        _lastStepTicks = step is null ? 0 : now;
        _kv = KvSnapshot();
        _load = LoadSnapshot();
        if (_load.IsIdle) _tokensPerSecond = 0;
        Published?.Invoke();
    }

    private EngineLoad LoadSnapshot()
    {
        var now = Environment.TickCount64;
        if (now - _prefixHashesAt >= PrefixHashRefreshMilliseconds)
        {
            _prefixHashes = _core.Blocks.PrefixHashes(PrefixHashLimit);
            _prefixHashesAt = now;
        }
        var waiting = _core.Scheduler.Waiting;
        var waitingBlocks = 0;
        foreach (var r in waiting)
        {
            foreach (var s in r.Live) waitingBlocks += _core.Blocks.BlocksFor(s.Tokens.Count);
        }
        return new EngineLoad(_kv, _core.Scheduler.Running.Count, waiting.Count, waitingBlocks, _tokensPerSecond, _prefixHashes, _health.Current);
    }

    private KvCacheStats KvSnapshot() =>
        new(_core.Blocks.BlockSize, _core.Blocks.BlockCount, _core.Blocks.FreeBlocks, _core.Blocks.CachedBlocks, _bytesPerBlock);
}
