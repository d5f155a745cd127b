using OrleansInfer.Engine.Core;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// The idle signal alone: one count of unfinished requests changed with the signal under one lock, so every
/// interleaving of a submission (Begin) and an end (End) leaves an exact answer.
/// </summary>
public sealed class IdleSignalTests
{
    [Fact]
    public void TheSignalFollowsTheCountExactly()
    {
        var idle = new IdleSignal();
        var initially = idle.WhenIdle;
        Assert.True(initially.IsCompletedSuccessfully, "no request yet");

        idle.Begin();
        var busy = idle.WhenIdle;
        Assert.False(busy.IsCompleted, "one request");
        idle.Begin();
        Assert.Same(busy, idle.WhenIdle);
        idle.End();
        Assert.False(busy.IsCompleted, "one request left");
        Assert.Equal(1, idle.Active);
        idle.End();
        Assert.True(busy.IsCompletedSuccessfully, "the last request ended");
        Assert.Equal(0, idle.Active);
    }

    /// <summary>The old window: the last request ends while another is being submitted. Both orders are exact.</summary>
    [Fact]
    public void ASubmissionAtTheLastEndIsNeverLost()
    {
        var idle = new IdleSignal();
        idle.Begin();
        var beforeEnd = idle.WhenIdle;

        // Submitted before the end is counted: still busy after it.
        idle.Begin();
        idle.End();
        Assert.False(beforeEnd.IsCompleted, "a request submitted before the last end was missed");
        Assert.False(idle.WhenIdle.IsCompleted);

        // Submitted right after the end: the end's waiters saw an idle engine, later ones a busy one.
        idle.End();
        Assert.True(beforeEnd.IsCompletedSuccessfully);
        idle.Begin();
        var afterSubmit = idle.WhenIdle;
        Assert.False(afterSubmit.IsCompleted, "a request submitted after the last end was missed");
        idle.End();
        Assert.True(afterSubmit.IsCompletedSuccessfully);
    }

    [Fact]
    public void AnEndThatWasNeverBegunIsABug()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new IdleSignal().End());
        Assert.Contains("never counted", e.Message);
    }
}
