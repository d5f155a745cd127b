using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Grains.Routing;
using OrleansInfer.Silo;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

/// <summary>
/// A worker whose runner keeps failing: each failed step ends its requests with a typed fault that the client resumes
/// elsewhere (a beam search, which cannot resume, restarts), and after a few in a row the worker reports itself
/// unhealthy and the router stops sending it work instead of feeding it every request.
/// </summary>
public sealed class UnhealthyWorkerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AWorkerWhoseRunnerKeepsFailingIsRoutedAroundAndItsRequestsFinishElsewhere()
    {
        var cases = SharedData.Reference.Cases;
        var expected = await Streams.Reference(cases.Select(c => c.PromptTokenIds));

        var faults = new FaultSwitch();
        RunnerFactory? Runners(string silo) => silo == "Silo_1" ? (model, device, options) => new FaultyRunner(WorkerEngines.CpuRunner(model, device, options), faults) : null;
        await using var cluster = ClusterFixture.Build(stepDelayMs: 0, silos: 2, runners: Runners);
        await cluster.DeployAsync();
        var router = cluster.Client.GetGrain<IRouterGrain>(ClusterFixture.ModelId);
        Assert.True(await router.WaitForWorkers(2, TimeSpan.FromSeconds(30)), "expected 2 workers within 30 s");
        var sick = ClusterFixture.WorkerKeyOf(cluster, "Silo_1");
        var well = ClusterFixture.WorkerKeyOf(cluster, "Silo_0");
        var streams = new ClusterStreamClient(cluster.Client);
        faults.On = true;

        // Requests sent to the failing worker end with a fault on their first step and finish on the other one (one at
        // a time, so each fails a step of its own).
        var recoveries = new List<StreamRecovery>();
        for (var i = 0; i < cases.Count; i++)
        {
            var result = await Streams.Collect(streams.GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(cases[i].PromptTokenIds),
                pinnedWorker: sick, onRecovery: recoveries.Add)).WaitAsync(Timeout);
            Assert.Equal(expected[i], result.Tokens);
            Assert.Equal([well], result.Workers);
        }
        Assert.Equal(cases.Count, recoveries.Count);
        Assert.All(recoveries, r => Assert.IsType<WorkerFaultException>(r.Error));
        Assert.All(recoveries, r => Assert.Contains("injected runner fault", r.Error.Message));

        // A beam search cannot resume: it starts again elsewhere, with the result of an undisturbed run.
        var beams = Streams.Greedy(cases[0].PromptTokenIds, maxTokens: 12) with { Sampling = new SamplingSpec { Temperature = 0, MaxTokens = 12, BeamWidth = 2, N = 2 } };
        var undisturbed = await Streams.Collect(streams.GenerateAsync(ClusterFixture.ModelId, beams with { RequestId = Guid.NewGuid().ToString("N") }, pinnedWorker: well));
        var restarted = await Streams.Collect(streams.GenerateAsync(ClusterFixture.ModelId, beams, pinnedWorker: sick)).WaitAsync(Timeout);
        Assert.Equal(undisturbed.Tokens, restarted.Tokens);
        Assert.Equal(undisturbed.Text, restarted.Text);

        // Enough failures in a row: the worker says it is unhealthy, and the router gives it nothing more.
        Assert.True(faults.Failures >= 3, $"expected at least 3 failed steps, saw {faults.Failures}");
        var control = cluster.Client.GetGrain<Workers.IWorkerControl>(sick);
        await control.ReportNow();
        var load = await cluster.Client.GetGrain<IWorkerGrain>(sick).GetLoad();
        Assert.False(load.Healthy);
        Assert.Contains("injected runner fault", load.HealthReason);
        Assert.Equal(load.TotalBlocks, load.FreeBlocks);
        Assert.DoesNotContain(await router.GetWorkers(), w => w.WorkerKey == sick);
        await cluster.Client.GetGrain<IRouterControl>(ClusterFixture.ModelId).SetPolicy("round-robin");
        for (var i = 0; i < 6; i++) Assert.Equal(well, (await router.Place(new PlacementRequest { PromptTokens = [1, 2, 3], MaxTokens = 4 })).WorkerKey);
    }
}
