using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Gateway.StatusPage;
using OrleansInfer.Gateway.Telemetry;
using OrleansInfer.Gateway.Tests.OpenAi;

namespace OrleansInfer.Gateway.Tests.Telemetry;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTime : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>
/// <see cref="GenAiRequest"/> on a hand-moved clock: exact TTFT, vLLM's TPOT and duration, prompts summed, the
/// recent-requests record, a stream left early, and the resumed event.
/// </summary>
public sealed class GenAiRequestTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ManualTime _time = new();
    private readonly RecentRequests _recent = new();
    private readonly FakeCluster _cluster = new();
    private readonly GenAiTelemetry _telemetry;

    public GenAiRequestTests() => _telemetry = new GenAiTelemetry(new GenAiMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), _recent, _time);

    public void Dispose() => _services.Dispose();

    private static GenerateRequest Request(int promptTokens) => new() { RequestId = "r", PromptTokens = [.. Enumerable.Range(3, promptTokens)], Sampling = new SamplingSpec { MaxTokens = 4, Temperature = 0.5f } };

    /// <summary>Four tokens: the first after 100 ms, then one every <paramref name="step"/>; usage on the last.</summary>
    private async IAsyncEnumerable<TokenChunk> FourTokens(int prompt, TimeSpan step, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.Yield();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        yield return new TokenChunk();  // a heartbeat is no token
        for (var i = 0; i < 4; i++)
        {
            if (i > 0) _time.Advance(step);
            yield return new TokenChunk { TokenIds = [300], Text = "x", FinishReason = i == 3 ? "length" : null, Usage = i == 3 ? new UsageReport(prompt, 4, 0) : null };
        }
    }

    [Fact]
    public async Task TimingsFollowTheClockAndTpotIsVllms()
    {
        using var measurements = new GenAiMeasurements(_services);
        _cluster.Generate = (r, ct) => FourTokens(r.PromptTokens.Length, TimeSpan.FromMilliseconds(50), ct);
        using (var observed = _telemetry.Start(GenAi.TextCompletion, Gateway.OpenAi.OpenAiError.ErrorTypeOf))
        {
            var model = await observed.ModelAsync(_cluster, null, CancellationToken.None);
            await foreach (var _ in observed.GenerateAsync(_cluster, model, Request(7), CancellationToken.None)) { }
            _time.Advance(TimeSpan.FromMilliseconds(200));  // writing the response
        }

        var record = Assert.Single(_recent.Snapshot());
        Assert.Equal((_time.GetUtcNow(), "fake", "text_completion", 7, 4, "length", (string?)null),
            (record.Finished, record.Model, record.Operation, record.PromptTokens, record.OutputTokens, record.FinishReason, record.ErrorType));
        Assert.Equal(0.1, record.TimeToFirstTokenSeconds!.Value, 9);
        Assert.Equal(0.05, record.TimePerOutputTokenSeconds!.Value, 9);
        Assert.Equal(0.45, record.DurationSeconds, 9);
        var m = measurements.All.ToDictionary(x => $"{x.Instrument}/{x.Tag("gen_ai.token.type")}", x => x.Value);
        Assert.Equal(0.45, m["gen_ai.server.request.duration/"], 9);
        Assert.Equal(0.1, m["gen_ai.server.time_to_first_token/"], 9);
        Assert.Equal(0.05, m["gen_ai.server.time_per_output_token/"], 9);
        Assert.Equal(7, m["gen_ai.client.token.usage/input"]);
        Assert.Equal(4, m["gen_ai.client.token.usage/output"]);
        Assert.Equal(5, measurements.All.Count);
    }

    [Fact]
    public async Task PromptsOfOneCallAreOneRequest()
    {
        _cluster.Generate = (r, ct) => FourTokens(r.PromptTokens.Length, TimeSpan.FromMilliseconds(10), ct);
        using (var observed = _telemetry.Start(GenAi.TextCompletion, Gateway.OpenAi.OpenAiError.ErrorTypeOf))
        {
            var model = await observed.ModelAsync(_cluster, "fake", CancellationToken.None);
            await foreach (var _ in observed.GenerateAsync(_cluster, model, Request(5), CancellationToken.None)) { }
            await foreach (var _ in observed.GenerateAsync(_cluster, model, Request(6), CancellationToken.None)) { }
        }
        var record = Assert.Single(_recent.Snapshot());
        // First token at 100 ms; the last chunk at 100 + 30 + 100 + 30 ms; 8 tokens: TPOT = 160 ms / 7.
        Assert.Equal((11, 8, "length"), (record.PromptTokens, record.OutputTokens, record.FinishReason));
        Assert.Equal(0.1, record.TimeToFirstTokenSeconds!.Value, 9);
        Assert.Equal(0.16 / 7, record.TimePerOutputTokenSeconds!.Value, 9);
    }

    [Fact]
    public async Task AStreamLeftBeforeItsEndIsACancelledRequest()
    {
        using var measurements = new GenAiMeasurements(_services);
        _cluster.Generate = (r, ct) => FourTokens(r.PromptTokens.Length, TimeSpan.FromMilliseconds(10), ct);
        using (var observed = _telemetry.Start(GenAi.Chat, Gateway.OpenAi.OpenAiError.ErrorTypeOf))
        {
            var model = await observed.ModelAsync(_cluster, null, CancellationToken.None);
            await foreach (var chunk in observed.GenerateAsync(_cluster, model, Request(3), CancellationToken.None))
            {
                if (chunk.TokenIds.Length > 0) break;
            }
        }
        var record = Assert.Single(_recent.Snapshot());
        Assert.Equal(("cancelled", 3, 1, null), (record.ErrorType, record.PromptTokens, record.OutputTokens, record.FinishReason));
        Assert.Equal(["gen_ai.client.token.usage", "gen_ai.client.token.usage", "gen_ai.server.request.duration"], measurements.All.Select(x => x.Instrument).Order());
        Assert.All(measurements.All, x => Assert.Equal("cancelled", x.Tag("error.type")));
    }

    [Fact]
    public async Task AFailureIsNamedByTheFrontEndAndTheFirstCounts()
    {
        _cluster.Generate = (r, ct) => FakeCluster.Script(ct, FakeCluster.Token("a"), new Gateway.Inference.GatewayException(Gateway.Inference.GatewayErrorKind.Overloaded, "full"));
        using (var observed = _telemetry.Start(GenAi.TextCompletion, Gateway.Grpc.GrpcErrors.ErrorTypeOf))
        {
            var model = await observed.ModelAsync(_cluster, null, CancellationToken.None);
            await Assert.ThrowsAsync<Gateway.Inference.GatewayException>(async () =>
            {
                await foreach (var _ in observed.GenerateAsync(_cluster, model, Request(3), CancellationToken.None)) { }
            });
            observed.Fail(new InvalidOperationException("later"));
        }
        Assert.Equal("RESOURCE_EXHAUSTED", Assert.Single(_recent.Snapshot()).ErrorType);
    }

    [Fact]
    public void ResumesAndHandOffsAreEventsOfTheRequestSpan()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == GenAi.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var observed = _telemetry.Start(GenAi.Chat, Gateway.OpenAi.OpenAiError.ErrorTypeOf);
        Assert.Same(observed.Span, Activity.Current);
        using (var inner = new Activity("orleans call").Start())
        {
            // The recovery callback runs below other spans (grain calls): it finds the request's.
            GenAiTelemetry.OnRecovery(new StreamRecovery("w1", new TimeoutException("quiet"), RecoveryKind.Resumed, 3));
            GenAiTelemetry.OnRecovery(new StreamRecovery("router m", new InvalidOperationException("no worker"), RecoveryKind.PlacementRetried, 0));
            GenAiTelemetry.OnRecovery(new StreamRecovery("w2", new InvalidOperationException("handed off to w3"), RecoveryKind.Moved, 5));
        }
        var events = observed.Span!.Events.ToList();
        Assert.Equal(["orleansinfer.resumed", "orleansinfer.resumed"], events.Select(e => e.Name));
        Assert.Equal(("resumed", "w1", 3, "System.TimeoutException"), Tags(events[0]));
        Assert.Equal(("moved", "w2", 5, "System.InvalidOperationException"), Tags(events[1]));

        static (object?, object?, object?, object?) Tags(ActivityEvent e)
        {
            var t = e.Tags.ToDictionary(x => x.Key, x => x.Value);
            return (t["orleansinfer.recovery"], t["orleansinfer.worker"], t["orleansinfer.tokens_delivered"], t["error.type"]);
        }
    }
}
