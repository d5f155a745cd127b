using System.Diagnostics;
using OpenTelemetry.Trace;
using OrleansInfer.Client.Telemetry;

namespace OrleansInfer.Gateway.Tests.Telemetry;

public sealed class RequestTraceSamplerTests
{
    private static readonly ActivityContext Parent = new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

    private static SamplingDecision Decide(string name, ActivityKind kind, bool withParent) =>
        new RequestTraceSampler().ShouldSample(new SamplingParameters(withParent ? Parent : default, ActivityTraceId.CreateRandom(), name, kind)).Decision;

    [Theory]
    // A request's grain calls and our own spans are recorded.
    [InlineData("IWorkerGrain/Generate", ActivityKind.Client, true, SamplingDecision.RecordAndSample)]
    [InlineData("IRouterGrain/Place", ActivityKind.Server, true, SamplingDecision.RecordAndSample)]
    [InlineData("IAsyncEnumerableGrainExtension/StartEnumeration<T>", ActivityKind.Server, true, SamplingDecision.RecordAndSample)]
    [InlineData("orleansinfer.worker.generate", ActivityKind.Internal, true, SamplingDecision.RecordAndSample)]
    [InlineData("orleansinfer.router.place", ActivityKind.Internal, false, SamplingDecision.RecordAndSample)]
    [InlineData("Microsoft.AspNetCore.Hosting.HttpRequestIn", ActivityKind.Server, false, SamplingDecision.RecordAndSample)]
    [InlineData("POST /v1/completions", ActivityKind.Server, false, SamplingDecision.RecordAndSample)]
    // One span pair per streamed batch, and background calls that would each start a trace, are not.
    [InlineData("IAsyncEnumerableGrainExtension/MoveNext<T>", ActivityKind.Client, true, SamplingDecision.Drop)]
    [InlineData("IAsyncEnumerableGrainExtension/MoveNext<T>", ActivityKind.Server, true, SamplingDecision.Drop)]
    [InlineData("IRouterControl/ReportLoad", ActivityKind.Client, false, SamplingDecision.Drop)]
    [InlineData("IWorkerControl/ReportNow", ActivityKind.Server, false, SamplingDecision.Drop)]
    public void KeepsWhatExplainsARequest(string name, ActivityKind kind, bool withParent, SamplingDecision expected) =>
        Assert.Equal(expected, Decide(name, kind, withParent));

    [Fact]
    public void AnUnsampledParentStaysUnsampled()
    {
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        var decision = new RequestTraceSampler().ShouldSample(new SamplingParameters(parent, parent.TraceId, "chat m", ActivityKind.Internal)).Decision;
        Assert.Equal(SamplingDecision.Drop, decision);
    }
}
