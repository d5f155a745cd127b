namespace OrleansInfer.Engine.Tests;

/// <summary>Bounded waits for tests that drive the engine thread: every wait fails with what it was waiting for.</summary>
public static class Waits
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static async Task<T> Within<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"timed out after {Timeout.TotalSeconds} s waiting for {what}");
            throw;
        }
    }

    public static async Task Within(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"timed out after {Timeout.TotalSeconds} s waiting for {what}");
        }
    }

    /// <summary>Blocks (a test thread, or the engine thread in a runner hook) until <paramref name="e"/> is set.</summary>
    public static void Wait(ManualResetEventSlim e, string what)
    {
        if (!e.Wait(Timeout)) throw new TimeoutException($"timed out after {Timeout.TotalSeconds} s waiting for {what}");
    }
}
