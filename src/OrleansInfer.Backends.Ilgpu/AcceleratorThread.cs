using System.Runtime.ExceptionServices;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>
/// The one thread through which every accelerator call goes (creation, uploads, launches, synchronization,
/// dispose): a CUDA context is bound to the thread that made it current (ILGPU issue #705), and the engine calls
/// from its own thread. <see cref="Invoke"/> posts work and waits; it allocates nothing when given a cached delegate.
/// Concurrent callers take turns: each action runs once and its caller gets its own exception. Calls from the
/// accelerator thread itself run inline. <see cref="Dispose"/> lets the action already posted finish and fails
/// every other waiting or later caller with <see cref="ObjectDisposedException"/>.
/// </summary>
internal sealed class AcceleratorThread : IDisposable
{
    private readonly Thread _thread;
    private readonly object _lock = new();

    // All guarded by _lock. A caller owns the slot from posting its action until it has read the outcome.
    private bool _slotTaken;
    private Action? _posted;
    private bool _completed;
    private ExceptionDispatchInfo? _error;
    private bool _stopping;

    public AcceleratorThread(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="action"/> on the accelerator thread and rethrows what it threw.</summary>
    public void Invoke(Action action)
    {
        if (Thread.CurrentThread == _thread)
        {
            action();
            return;
        }

        ExceptionDispatchInfo? error;
        lock (_lock)
        {
            while (_slotTaken && !_stopping) Monitor.Wait(_lock);
            ObjectDisposedException.ThrowIf(_stopping, this);
            _slotTaken = true;
            _posted = action;
            _completed = false;
            Monitor.PulseAll(_lock);
            // Once posted, the action runs even if Dispose comes meanwhile: the loop drains it before stopping.
            while (!_completed) Monitor.Wait(_lock);
            error = _error;
            _error = null;
            _slotTaken = false;
            Monitor.PulseAll(_lock);
        }
        error?.Throw();
    }

    /// <summary>Runs <paramref name="func"/> on the accelerator thread and returns its result (allocates a closure).</summary>
    public T Invoke<T>(Func<T> func)
    {
        T result = default!;
        // A statement body: an expression lambda would bind to this overload again (Func beats Action).
        Invoke(() => { result = func(); });
        return result;
    }

    private void Loop()
    {
        while (true)
        {
            Action action;
            lock (_lock)
            {
                while (_posted is null && !_stopping) Monitor.Wait(_lock);
                if (_posted is null) return;
                action = _posted;
                _posted = null;
            }

            ExceptionDispatchInfo? error = null;
            try
            {
                action();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }

            lock (_lock)
            {
                _error = error;
                _completed = true;
                Monitor.PulseAll(_lock);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopping) return;
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        // From an action on the accelerator thread the loop ends after that action returns.
        if (Thread.CurrentThread != _thread) _thread.Join();
    }
}
