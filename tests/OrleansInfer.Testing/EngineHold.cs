using OrleansInfer.Engine.Core;

namespace OrleansInfer.Testing;

/// <summary>
/// Holds an engine's thread after the next step it completes (or the first that <c>when</c> picks; that step's chunks
/// are already delivered) until disposed: a request running then can neither finish nor produce more, however slow
/// the test is.
/// </summary>
public sealed class EngineHold : IDisposable
{
    private readonly LlmEngine _engine;
    private readonly ManualResetEventSlim _release = new();
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<EngineStepStats, bool> _when;

    /// <param name="engine">The engine to hold.</param>
    /// <param name="when">Picks the step to hold after (called on the engine thread for each step); default: the next one.</param>
    public EngineHold(LlmEngine engine, Func<EngineStepStats, bool>? when = null)
    {
        _engine = engine;
        _when = when ?? (_ => true);
        engine.StepCompleted += OnStep;
    }

    /// <summary>Completes once the engine thread is held.</summary>
    public Task Held => _held.Task;

    private void OnStep(EngineStepStats step)
    {
        if (!_held.Task.IsCompleted && _when(step) && _held.TrySetResult()) _release.Wait(TimeSpan.FromMinutes(2));
    }

    /// <summary>Lets the engine go on.</summary>
    public void Dispose()
    {
        _engine.StepCompleted -= OnStep;
        _release.Set();
    }
}
