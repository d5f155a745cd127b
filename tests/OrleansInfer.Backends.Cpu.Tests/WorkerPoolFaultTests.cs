namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>
/// Exceptions thrown by parallel work: caught wherever they happen, rethrown by <see cref="WorkerPool.Run"/> on the
/// calling thread once nothing of the run is still executing, and the pool is usable afterwards.
/// </summary>
public sealed class WorkerPoolFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void AnExceptionOnAWorkerThreadIsRethrownByRunAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var failing = new ThrowsOnTheWorkerThread();

        var thrown = Assert.Throws<InvalidOperationException>(() => pool.Run(failing, 2));
        failing.RunReturned = true;

        Assert.Same(failing.Thrown, thrown);
        Assert.Equal("item failed on worker 1", thrown.Message);
        Assert.NotEqual(Environment.CurrentManagedThreadId, failing.ThrowingThreadId);

        // The next runs execute every item exactly once and never touch the failed run's work again.
        for (var run = 0; run < 3; run++)
        {
            var counting = new CountsItems(64);
            pool.Run(counting, 64);
            Assert.Equal(Enumerable.Repeat(1, 64), counting.Counts);
        }
        Assert.Equal(0, failing.CallsAfterRunReturned);
    }

    [Fact]
    public void AnExceptionOnTheCallersShareIsRethrownOnlyOnceTheItemsInFlightAreDone()
    {
        using var pool = new WorkerPool(2);
        var failing = new ThrowsOnTheCallerWhileAWorkerIsBusy();

        var thrown = Assert.Throws<InvalidOperationException>(() => pool.Run(failing, 2));

        Assert.Equal("the caller's item failed", thrown.Message);
        Assert.True(failing.WorkerItemFinished, "Run returned while a worker was still executing an item of the failed run");
        var counting = new CountsItems(64);
        pool.Run(counting, 64);
        Assert.Equal(Enumerable.Repeat(1, 64), counting.Counts);
    }

    /// <summary>
    /// The caller's first item waits until a pool thread has thrown, so the throw is certainly on a pool thread
    /// (with two items, the caller blocked in one, a worker must claim the other).
    /// </summary>
    private sealed class ThrowsOnTheWorkerThread : IParallelWork
    {
        private readonly ManualResetEventSlim _workerThrew = new();
        private int _callsAfterRunReturned;

        public volatile bool RunReturned;

        public Exception? Thrown { get; private set; }

        public int ThrowingThreadId { get; private set; }

        public int CallsAfterRunReturned => Volatile.Read(ref _callsAfterRunReturned);

        public void Execute(int item, int worker)
        {
            if (RunReturned) Interlocked.Increment(ref _callsAfterRunReturned);
            if (worker == 0)
            {
                if (!_workerThrew.Wait(Timeout)) throw new TimeoutException($"expected a pool thread to claim an item and throw within {Timeout.TotalSeconds} s");
                return;
            }
            if (Thrown is not null) return;
            ThrowingThreadId = Environment.CurrentManagedThreadId;
            Thrown = new InvalidOperationException($"item failed on worker {worker}");
            _workerThrew.Set();
            throw Thrown;
        }
    }

    /// <summary>A worker's item is in flight (it waits for the caller's throw) when the caller's item throws.</summary>
    private sealed class ThrowsOnTheCallerWhileAWorkerIsBusy : IParallelWork
    {
        private readonly ManualResetEventSlim _workerStarted = new();
        private readonly ManualResetEventSlim _callerThrowing = new();
        private volatile bool _workerItemFinished;

        public bool WorkerItemFinished => _workerItemFinished;

        public void Execute(int item, int worker)
        {
            if (worker == 0)
            {
                if (!_workerStarted.Wait(Timeout)) throw new TimeoutException($"expected a pool thread to claim an item within {Timeout.TotalSeconds} s");
                _callerThrowing.Set();
                throw new InvalidOperationException("the caller's item failed");
            }
            _workerStarted.Set();
            if (!_callerThrowing.Wait(Timeout)) throw new TimeoutException($"expected the caller's item to throw within {Timeout.TotalSeconds} s");
            _workerItemFinished = true;
        }
    }

    private sealed class CountsItems(int items) : IParallelWork
    {
        private readonly int[] _counts = new int[items];

        public int[] Counts => _counts;

        public void Execute(int item, int worker) => Interlocked.Increment(ref _counts[item]);
    }
}
