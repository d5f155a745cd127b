using System.Runtime.ExceptionServices;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>
/// The one thread through which every accelerator call goes (creation, uploads, launches, synchronization,
/// dispose): a CUDA context is bound to the thread that made it current (ILGPU issue #705), and the engine calls
/// from its own thread. <see cref="Invoke"/> posts work and waits; it allocates nothing when given a cached delegate.
/// </summary>
internal sealed class AcceleratorThread : IDisposable
{
    private readonly Thread _thread;
    private readonly SemaphoreSlim _work = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private Action? _action;
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
        ObjectDisposedException.ThrowIf(_stopping, this);
        _action = action;
        _work.Release();
        _done.Wait();
        var error = _error;
        _error = null;
        error?.Throw();
    }

    public T Invoke<T>(Func<T> func)
    {
        T result = default!;
        Invoke(() => result = func());
        return result;
    }

    private void Loop()
    {
        while (true)
        {
            _work.Wait();
            if (_stopping && _action is null) return;
            try
            {
                _action!();
            }
            catch (Exception e)
            {
                _error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                _action = null;
                _done.Release();
            }
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _work.Release();
        _thread.Join();
        _work.Dispose();
        _done.Dispose();
    }
}
