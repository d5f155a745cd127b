namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>
/// <see cref="AcceleratorThread"/> with several callers at once: each gets its own result or exception, Dispose
/// fails the callers still waiting, calls from the accelerator thread run inline, and one caller allocates nothing.
/// </summary>
public sealed class AcceleratorThreadTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConcurrentCallersEachGetTheirOwnResultOrException()
    {
        using var accelerator = new AcceleratorThread("test-accelerator");
        accelerator.Invoke(() => { });
        using var release = new ManualResetEventSlim();
        using var firstRunning = new ManualResetEventSlim();

        var first = Caller.Start(() =>
        {
            var value = 0;
            accelerator.Invoke(() =>
            {
                firstRunning.Set();
                WaitFor(release, "the test to release the first action");
                value = 1;
            });
            return value;
        });
        WaitFor(firstRunning, "the first action to start on the accelerator thread");
        var second = Caller.Start(() =>
        {
            accelerator.Invoke(() => throw new InvalidOperationException("the second action failed"));
            return 0;
        });
        var third = Caller.Start(() =>
        {
            var value = 0;
            accelerator.Invoke(() => { value = 3; });
            return value;
        });
        second.WaitUntilBlocked("the second caller to wait inside Invoke");
        third.WaitUntilBlocked("the third caller to wait inside Invoke");
        release.Set();

        Assert.Equal(1, await first.Result("the first caller's result"));
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => second.Result("the second caller's exception"));
        Assert.Equal("the second action failed", failure.Message);
        Assert.Equal(3, await third.Result("the third caller's result"));
    }

    [Fact]
    public async Task DisposeFailsWaitingCallersAndLetsTheRunningActionFinish()
    {
        var accelerator = new AcceleratorThread("test-accelerator");
        accelerator.Invoke(() => { });
        using var release = new ManualResetEventSlim();
        using var firstRunning = new ManualResetEventSlim();

        var first = Caller.Start(() =>
        {
            var value = 0;
            accelerator.Invoke(() =>
            {
                firstRunning.Set();
                WaitFor(release, "the test to release the first action");
                value = 1;
            });
            return value;
        });
        WaitFor(firstRunning, "the first action to start on the accelerator thread");
        var waiting = Caller.Start(() =>
        {
            accelerator.Invoke(() => { });
            return 2;
        });
        waiting.WaitUntilBlocked("the second caller to wait inside Invoke");
        var disposing = Caller.Start(() =>
        {
            accelerator.Dispose();
            return 0;
        });

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.Result("Dispose to fail the caller waiting for its turn"));
        Assert.False(first.Task.IsCompleted, "the first action returned before the test released it");
        release.Set();
        Assert.Equal(1, await first.Result("the running action to finish during Dispose"));
        Assert.Equal(0, await disposing.Result("Dispose to return once the running action finished"));
        Assert.Throws<ObjectDisposedException>(() => accelerator.Invoke(() => { }));
    }

    [Fact]
    public async Task CallsFromTheAcceleratorThreadRunInline()
    {
        using var accelerator = new AcceleratorThread("test-accelerator");
        var nested = Caller.Start(() =>
        {
            string? name = null;
            accelerator.Invoke(() => accelerator.Invoke(() => { name = Thread.CurrentThread.Name; }));
            return name;
        });
        Assert.Equal("test-accelerator", await nested.Result("the nested call to run inline on the accelerator thread"));
    }

    [Fact]
    public async Task InvokeOfAFunctionReturnsItsResultOrRethrows()
    {
        using var accelerator = new AcceleratorThread("test-accelerator");
        var call = Caller.Start(() => accelerator.Invoke(() => Thread.CurrentThread.Name));
        Assert.Equal("test-accelerator", await call.Result("the function's result"));
        var failure = Assert.Throws<InvalidOperationException>(() => accelerator.Invoke<int>(() => throw new InvalidOperationException("the function failed")));
        Assert.Equal("the function failed", failure.Message);
    }

    [Fact]
    public void OneCallerWithACachedDelegateAllocatesNothing()
    {
        using var accelerator = new AcceleratorThread("test-accelerator");
        var calls = 0;
        Action action = () => calls++;
        for (var i = 0; i < 10; i++) accelerator.Invoke(action);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) accelerator.Invoke(action);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(110, calls);
    }

    private static void WaitFor(ManualResetEventSlim gate, string expected)
    {
        if (!gate.Wait(Timeout)) throw new TimeoutException($"expected {expected} within {Timeout.TotalSeconds} s");
    }

    /// <summary>A call made on a dedicated thread, so the test can see when that thread blocks.</summary>
    private sealed class Caller<T>
    {
        private readonly TaskCompletionSource<T> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Thread _thread;

        public Caller(Func<T> call)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    _outcome.SetResult(call());
                }
                catch (Exception e)
                {
                    _outcome.SetException(e);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public Task<T> Task => _outcome.Task;

        public async Task<T> Result(string expected)
        {
            try
            {
                return await _outcome.Task.WaitAsync(Timeout);
            }
            catch (TimeoutException) when (!_outcome.Task.IsCompleted)
            {
                throw new TimeoutException($"expected {expected} within {Timeout.TotalSeconds} s");
            }
        }

        /// <summary>Polls the thread's state: blocked means it reached the wait inside Invoke.</summary>
        public void WaitUntilBlocked(string expected)
        {
            var deadline = DateTime.UtcNow + Timeout;
            var spin = new SpinWait();
            while ((_thread.ThreadState & ThreadState.WaitSleepJoin) == 0)
            {
                if (_outcome.Task.IsCompleted) throw new InvalidOperationException($"expected {expected}, but the call already returned");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"expected {expected} within {Timeout.TotalSeconds} s");
                spin.SpinOnce();
            }
        }
    }

    private static class Caller
    {
        public static Caller<T> Start<T>(Func<T> call) => new(call);
    }
}
