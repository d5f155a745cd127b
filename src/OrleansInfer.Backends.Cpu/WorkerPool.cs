using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace OrleansInfer.Backends.Cpu;

/// <summary>A unit of parallel work: <see cref="Execute"/> runs once per item, on any participating thread.</summary>
internal interface IParallelWork
{
    void Execute(int item, int worker);
}

/// <summary>
/// Persistent worker threads for the forward pass. <see cref="Run"/> hands out items through one atomic
/// ticket (generation in the high 32 bits, next item in the low 32), so the caller and whichever workers are
/// awake share the items; a worker that is descheduled or asleep never holds the step up, and a late worker
/// cannot claim an item of a newer generation. Workers spin briefly between runs (a decode step launches
/// ~100 of them) and then sleep. No allocation per successful run.
/// An exception thrown by <see cref="IParallelWork.Execute"/> on any thread is caught: the remaining items are
/// counted without running, <see cref="Run"/> waits for the items in flight and then rethrows the first exception
/// on the calling thread, and the pool is ready for the next run.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 us
    private readonly Thread[] _threads;
    private readonly object _sleepLock = new();
    private long _ticket;
    private int _generation;
    private int _items;
    private int _done;
    private int _sleepers;
    private volatile bool _stopping;
    private IParallelWork? _work;
    private ExceptionDispatchInfo? _error; // the run's first failure

    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            var worker = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"cpu-runner-{worker}" };
            _threads[i].Start();
        }
    }

    /// <summary>Participating threads, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="work"/> for items 0..<paramref name="items"/>-1 and returns when all are done; with
    /// <paramref name="parallel"/> false (work too small to pay for waking workers) the caller does it alone.
    /// Rethrows (with its original stack trace) the first exception an item threw, once no item is running.
    /// </summary>
    public void Run(IParallelWork work, int items, bool parallel = true)
    {
        if (items <= 0) return;
        if (items == 1 || ThreadCount == 1 || !parallel)
        {
            for (var i = 0; i < items; i++) work.Execute(i, 0);
            return;
        }

        _work = work;
        _items = items;
        _done = 0;
        var generation = ++_generation;
        Interlocked.Exchange(ref _ticket, (long)generation << 32);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_sleepLock) Monitor.PulseAll(_sleepLock);
        }

        Drain(generation, 0);
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) != items) spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
        var error = _error;
        if (error is null) return;
        _error = null;
        error.Throw();
    }

    private void Drain(int generation, int worker)
    {
        while (true)
        {
            var ticket = Volatile.Read(ref _ticket);
            if ((int)(ticket >> 32) != generation) return;
            var item = (int)ticket;
            if (item >= Volatile.Read(ref _items)) return;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            // Every claimed item is counted, run or not, so the caller's wait always ends; after a failure the
            // rest are skipped (the step has failed anyway) and an exception never escapes a worker thread.
            if (Volatile.Read(ref _error) is null)
            {
                try
                {
                    _work!.Execute(item, worker);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
                }
            }
            Interlocked.Increment(ref _done);
        }
    }

    private void WorkerLoop(int worker)
    {
        var seen = 0;
        while (!_stopping)
        {
            var start = Stopwatch.GetTimestamp();
            int generation;
            while ((generation = (int)(Volatile.Read(ref _ticket) >> 32)) == seen && !_stopping)
            {
                if (Stopwatch.GetTimestamp() - start > SpinTicks)
                {
                    Interlocked.Increment(ref _sleepers);
                    lock (_sleepLock)
                    {
                        while ((int)(Volatile.Read(ref _ticket) >> 32) == seen && !_stopping) Monitor.Wait(_sleepLock);
                    }
                    Interlocked.Decrement(ref _sleepers);
                    start = Stopwatch.GetTimestamp();
                }
                else
                {
                    Thread.SpinWait(20);
                }
            }
            if (_stopping) return;
            seen = generation;
            Drain(generation, worker);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        lock (_sleepLock) Monitor.PulseAll(_sleepLock);
        foreach (var t in _threads) t.Join();
    }
}
