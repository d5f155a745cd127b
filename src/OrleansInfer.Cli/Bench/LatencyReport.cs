using System.Globalization;
using OrleansInfer.Cli.Infrastructure;

namespace OrleansInfer.Cli.Bench;

/// <summary>Settings of one latency benchmark.</summary>
public sealed record LatencySettings(int InputLength, int OutputLength, int Batch, int Warmup, int Repeats, int Seed);

/// <summary>Medians over the measured repeats (the warm-up runs are discarded) and per-step latency percentiles.</summary>
public sealed record LatencyResult(
    double PrefillTokensPerSecond,
    double DecodeTokensPerSecond,
    double DecodeThroughputTokensPerSecond,
    double TimeToFirstTokenMs,
    double PerTokenP50Ms,
    double PerTokenP90Ms,
    double PerTokenP99Ms)
{
    /// <summary>Summarizes per-repeat rates and every measured decode step's latency.</summary>
    public static LatencyResult From(List<double> prefillRates, List<double> decodeRates, List<double> ttftMs, List<double> stepMs, int batch) => new(
        Statistics.Median(prefillRates),
        Statistics.Median(decodeRates),
        Statistics.Median(decodeRates) * batch,
        Statistics.Median(ttftMs),
        Statistics.Percentile(stepMs, 0.50),
        Statistics.Percentile(stepMs, 0.90),
        Statistics.Percentile(stepMs, 0.99));
}

/// <summary>Medians and percentiles as every benchmark here reports them.</summary>
public static class Statistics
{
    public static double Median(List<double> values) => Percentile(values, 0.5);

    /// <summary>Nearest-rank percentile (the median of an even count averages the middle two).</summary>
    public static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        if (p == 0.5 && sorted.Length % 2 == 0) return (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// The `bench latency` report, as one JSON line or a short text summary. The llama.cpp peer
/// (tests/OrleansInfer.LlamaCppPeer) prints its measurements through this too, so both read the same.
/// </summary>
public sealed record LatencyReport(string Engine, string Backend, string Device, string Model, int Threads, LatencySettings Settings, LatencyResult Result)
{
    public string ToJson() => Json.Object(w =>
    {
        w.WriteString("engine", Engine);
        w.WriteString("backend", Backend);
        w.WriteString("device", Device);
        w.WriteString("model", Model);
        w.WriteNumber("threads", Threads);
        w.WriteNumber("batch", Settings.Batch);
        w.WriteNumber("input_len", Settings.InputLength);
        w.WriteNumber("output_len", Settings.OutputLength);
        w.WriteNumber("repeats", Settings.Repeats);
        w.WriteNumber("prefill_tokens_per_s", Math.Round(Result.PrefillTokensPerSecond, 2));
        w.WriteNumber("decode_tokens_per_s", Math.Round(Result.DecodeTokensPerSecond, 2));
        w.WriteNumber("decode_throughput_tokens_per_s", Math.Round(Result.DecodeThroughputTokensPerSecond, 2));
        w.WriteNumber("ttft_ms", Math.Round(Result.TimeToFirstTokenMs, 3));
        w.WriteStartObject("per_token_latency_ms");
        w.WriteNumber("p50", Math.Round(Result.PerTokenP50Ms, 3));
        w.WriteNumber("p90", Math.Round(Result.PerTokenP90Ms, 3));
        w.WriteNumber("p99", Math.Round(Result.PerTokenP99Ms, 3));
        w.WriteEndObject();
        PeakMemory.WriteTo(w);
    });

    public string ToText()
    {
        var (s, r) = (Settings, Result);
        return string.Create(CultureInfo.InvariantCulture, $"""
            {Engine}: {Model} on {Device}, batch {s.Batch}, {s.InputLength} in / {s.OutputLength} out, median of {s.Repeats}
              prefill  {r.PrefillTokensPerSecond,10:F1} tokens/s   (time to first token {r.TimeToFirstTokenMs:F1} ms)
              decode   {r.DecodeTokensPerSecond,10:F1} tokens/s per sequence, {r.DecodeThroughputTokensPerSecond:F1} in all
              per-token latency p50 {r.PerTokenP50Ms:F2} ms, p90 {r.PerTokenP90Ms:F2} ms, p99 {r.PerTokenP99Ms:F2} ms
            """);
    }
}
