using System.Diagnostics;
using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Telemetry;
using OrleansInfer.Grains.Routing;
using OrleansInfer.Grains.Workers;
using OrleansInfer.Testing;
using static OrleansInfer.Grains.Telemetry.ClusterTelemetryNames;

namespace OrleansInfer.Grains.Tests.Telemetry;

/// <summary>
/// The cluster's metrics and spans on the fixture's cluster: router counters on routers fed exact reports, the health
/// gauge and engine labels of the real workers, and one trace from the test's client through router, worker and engine.
/// </summary>
[Collection(nameof(ClusterCollection))]
public sealed class ClusterTelemetryTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static PlacementRequest Request(int prompt, int maxTokens, params string[] exclude) =>
        new() { PromptTokens = Enumerable.Range(1, prompt).ToArray(), MaxTokens = maxTokens, Exclude = exclude };

    private static GenerateRequest Generate(int maxTokens) => new()
    {
        RequestId = Guid.NewGuid().ToString("N"),
        PromptTokens = SharedData.Reference.Cases[0].PromptTokenIds,
        Sampling = new SamplingSpec { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true },
    };

    private static async Task Drain(IAsyncEnumerable<TokenChunk> stream)
    {
        await foreach (var _ in stream)
        {
        }
    }

    [Fact]
    public async Task PlacementsAreCountedByPolicyAndRefusalsByReason()
    {
        var id = $"telemetry-{Guid.NewGuid():N}";
        using var metrics = new MetricRecorder(SourceName, tags => Equals(tags.GetValueOrDefault(ModelLabel), id));
        var control = fixture.Cluster.Client.GetGrain<IRouterControl>(id);
        await control.SetPolicy(PlacementPolicies.RoundRobin);
        await control.ReportLoad(PlayedWorkers.Load("a", 64, 60));
        await control.ReportLoad(PlayedWorkers.Load("b", 64, 60));
        var router = fixture.Cluster.Client.GetGrain<IRouterGrain>(id);
        for (var i = 0; i < 3; i++) await router.Place(Request(10, 10));
        await control.SetPolicy(PlacementPolicies.LeastLoaded);
        await router.Place(Request(10, 10));
        var noWorkers = await Assert.ThrowsAsync<ClusterRejectedException>(() => router.Place(Request(10, 10, "a", "b")));
        Assert.Equal(ClusterRejection.NoWorkers, noWorkers.Reason);
        var tooLong = await Assert.ThrowsAsync<ClusterRejectedException>(() => router.Place(Request(600, 10)));
        Assert.Equal(ClusterRejection.InvalidRequest, tooLong.Reason);

        Assert.Equal(3, metrics.Sum(Placements, PolicyLabel, PlacementPolicies.RoundRobin));
        Assert.Equal(1, metrics.Sum(Placements, PolicyLabel, PlacementPolicies.LeastLoaded));
        Assert.Equal(4, metrics.Of(Placements).Count);
        Assert.Equal(1, metrics.Sum(Rejections, ReasonLabel, "NoWorkers"));
        Assert.Equal(1, metrics.Sum(Rejections, ReasonLabel, "InvalidRequest"));
        Assert.Equal(2, metrics.Of(Rejections).Count);
        var silos = fixture.Cluster.Silos.Select(s => s.SiloAddress.ToParsableString()).ToList();
        Assert.All(metrics.Of(Placements), m => Assert.Contains((string)m.Tags[SiloLabel]!, silos));
    }

    [Fact]
    public void WorkersReportTheirHealthAndLabelTheirEngines()
    {
        var keys = fixture.Cluster.Silos.Select(s => ClusterFixture.WorkerKeyOf(fixture.Cluster, s.Name)).ToHashSet();
        using var metrics = new MetricRecorder(SourceName, tags => keys.Contains(tags.GetValueOrDefault(WorkerLabel) as string ?? ""));
        metrics.ReadGauges();
        var healthy = metrics.Of(Healthy);
        Assert.Equal(keys.Order(), healthy.Select(m => (string)m.Tags[WorkerLabel]!).Order());
        Assert.All(healthy, m => Assert.Equal(1, m.Value));

        foreach (var silo in fixture.Cluster.Silos)
        {
            var engine = ClusterFixture.EnginesOf(fixture.Cluster, silo.Name).Get(0);
            var expected = new TelemetryLabels
            {
                Model = ClusterFixture.ModelId, Worker = ClusterFixture.WorkerKeyOf(fixture.Cluster, silo.Name),
                Silo = silo.SiloAddress.ToParsableString(), Device = engine.DeviceName,
            };
            Assert.Equal(expected, engine.TelemetryLabels);
            var gauge = healthy.Single(m => Equals(m.Tags[WorkerLabel], expected.Worker));
            Assert.Equal((expected.Model, expected.Silo, expected.Device), ((string?)gauge.Tags[ModelLabel], (string?)gauge.Tags[SiloLabel], (string?)gauge.Tags[DeviceLabel]));
        }
    }

    [Fact]
    public async Task ARequestIsOneTraceFromTheClientThroughRouterAndWorkerToTheEngine()
    {
        var (outer, spans) = SpanRecorder.StartTrace();
        using var _ = spans;
        try
        {
            await Drain(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, Generate(6))).WaitAsync(Timeout);
        }
        finally
        {
            outer.Stop();
        }

        var place = Assert.Single(await spans.WaitFor(PlaceSpan, 1));
        var generate = Assert.Single(await spans.WaitFor(GenerateSpan, 1));
        var engine = Assert.Single(await spans.WaitFor(EngineTelemetryNames.RequestSpan, 1));
        Assert.Equal(ClusterFixture.ModelId, place.GetTagItem(ModelLabel));
        Assert.Equal("kv-aware", place.GetTagItem(PolicyLabel));
        var worker = (string)place.GetTagItem(WorkerLabel)!;
        Assert.Equal(worker, generate.GetTagItem(WorkerLabel));
        Assert.Equal(WorkerKeys.Parse(worker).Silo, generate.GetTagItem(SiloLabel));
        Assert.Equal(false, generate.GetTagItem(ResumedAttribute));
        // The engine's span is the worker span's child; the grain spans descend from the client's outer activity.
        Assert.Equal(generate.SpanId, engine.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Unset, engine.Status);
        Assert.Equal("length", engine.GetTagItem(EngineTelemetryNames.FinishReasonLabel));
        Assert.Equal(worker, engine.GetTagItem(EngineTelemetryNames.WorkerLabel));
    }

    [Fact]
    public async Task AMovedRequestResumesOnItsNewWorkerInTheSameTrace()
    {
        var from = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_1");
        var to = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");
        using var metrics = new MetricRecorder(SourceName, tags => Equals(tags.GetValueOrDefault(WorkerLabel), to));
        var engine = ClusterFixture.EnginesOf(fixture.Cluster, "Silo_1").Get(0);
        var request = Generate(24);
        var steps = 0;
        var midway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        void Hold(EngineStepStats _)
        {
            if (Interlocked.Increment(ref steps) != 8) return;
            midway.TrySetResult();
            release.Wait(Timeout);
        }

        var (outer, spans) = SpanRecorder.StartTrace();
        using var _ = spans;
        engine.StepCompleted += Hold;
        try
        {
            var moved = Drain(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, request, pinnedWorker: from));
            await midway.Task.WaitAsync(Timeout);
            Assert.True(await fixture.Cluster.Client.GetGrain<IWorkerControl>(from).MoveRequest(request.RequestId, to), "the request should still be running on Silo_1");
            release.Set();
            await moved.WaitAsync(Timeout);
        }
        finally
        {
            engine.StepCompleted -= Hold;
            release.Set();
            outer.Stop();
        }

        var generates = await spans.WaitFor(GenerateSpan, 2);
        var first = generates.Single(s => Equals(s.GetTagItem(WorkerLabel), from));
        var second = generates.Single(s => Equals(s.GetTagItem(WorkerLabel), to));
        Assert.Equal((false, to), (first.GetTagItem(ResumedAttribute), first.GetTagItem(MovedToAttribute)));
        Assert.Equal(true, second.GetTagItem(ResumedAttribute));
        var engines = await spans.WaitFor(EngineTelemetryNames.RequestSpan, 2);
        Assert.Equal("abort", engines.Single(s => s.ParentSpanId == first.SpanId).GetTagItem(EngineTelemetryNames.FinishReasonLabel));
        Assert.Equal("length", engines.Single(s => s.ParentSpanId == second.SpanId).GetTagItem(EngineTelemetryNames.FinishReasonLabel));
        Assert.Equal(1, metrics.Sum(Resumes, WorkerLabel, to));
        Assert.True(await fixture.Cluster.Client.GetGrain<IWorkerControl>(from).WaitForIdle(Timeout), "expected the source worker to drop the moved request");
    }
}
