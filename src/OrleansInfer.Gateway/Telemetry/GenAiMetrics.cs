using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansInfer.Gateway.Telemetry;

/// <summary>
/// The GenAI semantic conventions' server metrics on Meter <c>OrleansInfer.Gateway</c>, with the conventions' units and
/// recommended bucket boundaries declared as <see cref="InstrumentAdvice{T}"/> (exporters use them unless a view
/// overrides). The meter comes from the host's <see cref="IMeterFactory"/>, so each gateway has its own instance.
/// </summary>
public sealed class GenAiMetrics
{
    /// <summary>The conventions' boundaries for gen_ai.server.request.duration (seconds).</summary>
    public static IReadOnlyList<double> DurationBuckets { get; } = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    /// <summary>The conventions' boundaries for gen_ai.server.time_to_first_token (seconds).</summary>
    public static IReadOnlyList<double> TimeToFirstTokenBuckets { get; } = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    /// <summary>The conventions' boundaries for gen_ai.server.time_per_output_token (seconds).</summary>
    public static IReadOnlyList<double> TimePerOutputTokenBuckets { get; } = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];

    /// <summary>The conventions' boundaries for gen_ai.client.token.usage (tokens).</summary>
    public static IReadOnlyList<int> TokenUsageBuckets { get; } = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    public GenAiMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(GenAi.SourceName, StatusEndpoints.Version);
        RequestDuration = Meter.CreateHistogram<double>("gen_ai.server.request.duration", unit: "s",
            description: "Generative AI server request duration such as time-to-last byte or last output token.", tags: null, advice: new() { HistogramBucketBoundaries = DurationBuckets });
        TimeToFirstToken = Meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", unit: "s",
            description: "Time to generate first token for successful responses.", tags: null, advice: new() { HistogramBucketBoundaries = TimeToFirstTokenBuckets });
        TimePerOutputToken = Meter.CreateHistogram<double>("gen_ai.server.time_per_output_token", unit: "s",
            description: "Time per output token generated after the first token for successful responses.", tags: null, advice: new() { HistogramBucketBoundaries = TimePerOutputTokenBuckets });
        TokenUsage = Meter.CreateHistogram<int>("gen_ai.client.token.usage", unit: "{token}",
            description: "Number of input and output tokens used.", tags: null, advice: new() { HistogramBucketBoundaries = TokenUsageBuckets });
    }

    public Meter Meter { get; }

    public Histogram<double> RequestDuration { get; }

    public Histogram<double> TimeToFirstToken { get; }

    public Histogram<double> TimePerOutputToken { get; }

    public Histogram<int> TokenUsage { get; }

    /// <summary>Records one finished request: duration always; TTFT and TPOT when it succeeded and produced them; usage when known.</summary>
    internal void Record(in TagList tags, double duration, double? ttft, double? tpot, int? inputTokens, int? outputTokens, bool failed)
    {
        if (!failed && ttft is { } first) TimeToFirstToken.Record(first, tags);
        if (!failed && tpot is { } perToken) TimePerOutputToken.Record(perToken, tags);
        if (inputTokens is { } input) TokenUsage.Record(input, WithTokenType(tags, "input"));
        if (outputTokens is { } output) TokenUsage.Record(output, WithTokenType(tags, "output"));
        // The duration last: a reader that saw it sees the request's other measurements.
        RequestDuration.Record(duration, tags);
    }

    private static TagList WithTokenType(TagList tags, string type)
    {
        tags.Add(GenAi.TokenType, type);
        return tags;
    }
}
