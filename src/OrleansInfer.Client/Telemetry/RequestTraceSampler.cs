using OpenTelemetry.Trace;

namespace OrleansInfer.Client.Telemetry;

/// <summary>
/// The sampler of every OrleansInfer host: parent-based, always on, minus two kinds of Orleans grain-call spans that
/// explain no request. Orleans makes a client and a server span for each <c>MoveNext</c> of a streamed grain method,
/// one pair per batch of tokens (about a hundred per completion, nine tenths of a trace, and a fifth of the throughput
/// of a tiny model when exported); and a root span for each background call (load reports every 250 ms, timers,
/// membership), each a trace of its own. Spans of requests (a gateway's, or a caller's traceparent) keep their
/// parents; OrleansInfer's own spans are never dropped. A sampler named by <c>OTEL_TRACES_SAMPLER</c> replaces it.
/// </summary>
public sealed class RequestTraceSampler : Sampler
{
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);
    private readonly Sampler _inner = new ParentBasedSampler(new AlwaysOnSampler());

    public RequestTraceSampler() => Description = "OrleansInfer.RequestTraceSampler";

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var name = samplingParameters.Name;
        if (IsGrainCall(samplingParameters.Kind, name))
        {
            if (name.StartsWith(StreamItemCall, StringComparison.Ordinal)) return Drop;
            if (samplingParameters.ParentContext.TraceId == default) return Drop;
        }
        return _inner.ShouldSample(samplingParameters);
    }

    /// <summary>The standard variable naming another sampler (the SDK then reads it and its argument itself).</summary>
    public const string SamplerVariable = "OTEL_TRACES_SAMPLER";

    private const string StreamItemCall = "IAsyncEnumerableGrainExtension/MoveNext";

    /// <summary>Orleans names its grain-call spans "IInterface/Method" (client and server kinds).</summary>
    private static bool IsGrainCall(System.Diagnostics.ActivityKind kind, string name) =>
        kind is System.Diagnostics.ActivityKind.Client or System.Diagnostics.ActivityKind.Server &&
        name.Length > 1 && name[0] == 'I' && name.Contains('/') && !name.Contains(' ');
}

/// <summary>Installs <see cref="RequestTraceSampler"/> unless the environment names a sampler.</summary>
public static class RequestTraceSamplerExtensions
{
    public static TracerProviderBuilder SetRequestTraceSampler(this TracerProviderBuilder builder, bool samplerFromEnvironment) =>
        samplerFromEnvironment ? builder : builder.SetSampler(new RequestTraceSampler());
}
