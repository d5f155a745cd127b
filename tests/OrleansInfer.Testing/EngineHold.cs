using OrleansInfer.Engine.Core;

namespace OrleansInfer.Testing;

/// <summary>
/// Holds an engine's thread after the next step it completes (that step's chunks are already delivered) until
/// disposed: a request running then can neither finish nor produce more, however slow the test is.
/// </summary>
public sealed class EngineHold : IDisposable
{
    private readonly LlmEngine _engine;
    private readonly ManualResetEventSlim _release = new();
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EngineHold(LlmEngine engine)
    {
        _engine = engine;
        engine.StepCompleted += OnStep;
    }

    /// <summary>Completes once the engine thread is held.</summary>
    public Task Held => _held.Task;

    private void OnStep(EngineStepStats step)
    {
        if (_held.TrySetResult()) _release.Wait(TimeSpan.FromMinutes(2));
    }

    /// <summary>Lets the engine go on.</summary>
    public void Dispose()
    {
        _engine.StepCompleted -= OnStep;
        _release.Set();
    }
}
