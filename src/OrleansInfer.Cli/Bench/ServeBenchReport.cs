using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OrleansInfer.Cli.Infrastructure;

namespace OrleansInfer.Cli.Bench;

/// <summary>
/// What one request measured. Times are in milliseconds from the moment the request was sent (after any wait
/// for a --max-concurrency slot, so queueing in the client is not charged to the server).
/// </summary>
/// <param name="Error">Null on success; else the HTTP status code ("503"), the gRPC status name ("UNAVAILABLE") or
/// a client-side cause ("connection_error", "incomplete", "stream_error", "bad_chunk").</param>
/// <param name="TtftMs">Send to the first token.</param>
/// <param name="ItlMs">Gaps between consecutive token arrivals (one per streamed chunk after the first).</param>
/// <param name="E2eMs">Send to the end of the stream.</param>
/// <param name="PromptTokens">From the server's usage when it reports one, else the prompt's length.</param>
/// <param name="OutputTokens">From the server's usage when it reports one, else the tokens counted in the stream.</param>
public sealed record RequestOutcome(string? Error, double TtftMs, IReadOnlyList<double> ItlMs, double E2eMs, int PromptTokens, int OutputTokens)
{
    /// <summary>A failed request; its timings are not used.</summary>
    public static RequestOutcome Failed(string error) => new(error, double.NaN, [], double.NaN, 0, 0);

    /// <summary>(E2E − TTFT) / (output tokens − 1): the mean decode time per token after the first; NaN below two tokens.</summary>
    public double TpotMs => OutputTokens > 1 ? (E2eMs - TtftMs) / (OutputTokens - 1) : double.NaN;
}

/// <summary>Times the token arrivals of one streamed response; shared by both API clients so they measure alike.</summary>
internal sealed class TokenClock
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _last;
    private readonly List<double> _itl = [];

    public double TtftMs { get; private set; } = double.NaN;
    public int Tokens { get; private set; }
    public IReadOnlyList<double> Itl => _itl;

    /// <summary>A chunk carrying <paramref name="tokens"/> tokens arrived now.</summary>
    public void Arrived(int tokens)
    {
        var now = Stopwatch.GetTimestamp();
        if (Tokens == 0) TtftMs = Stopwatch.GetElapsedTime(_start, now).TotalMilliseconds;
        else _itl.Add(Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds);
        _last = now;
        Tokens += tokens;
    }

    public RequestOutcome Done(int promptTokens, int? usageTokens) =>
        Tokens == 0
            ? RequestOutcome.Failed("incomplete")
            : new RequestOutcome(null, TtftMs, _itl, Stopwatch.GetElapsedTime(_start).TotalMilliseconds, promptTokens, usageTokens ?? Tokens);
}

/// <summary>Mean and percentiles of one latency, in milliseconds (NaN when nothing was measured).</summary>
public sealed record LatencySummary(double Mean, double P50, double P90, double P99)
{
    public static LatencySummary Of(List<double> values) => values.Count == 0
        ? new(double.NaN, double.NaN, double.NaN, double.NaN)
        : new(values.Average(), Statistics.Percentile(values, 0.5), Statistics.Percentile(values, 0.9), Statistics.Percentile(values, 0.99));
}

/// <summary>The result of a run: counts, throughputs over the whole run, and latency summaries of the successful requests.</summary>
public sealed record ServeBenchReport(
    ServeBenchSettings Settings,
    int Completed,
    int Failed,
    IReadOnlyDictionary<string, int> Errors,
    double DurationSeconds,
    long TotalInputTokens,
    long TotalOutputTokens,
    LatencySummary Ttft,
    LatencySummary Tpot,
    LatencySummary Itl,
    LatencySummary E2e)
{
    /// <summary>Summarizes the outcomes of a run that took <paramref name="durationSeconds"/> from the first send to the last response.</summary>
    public static ServeBenchReport From(ServeBenchSettings settings, IReadOnlyList<RequestOutcome> outcomes, double durationSeconds)
    {
        var ok = outcomes.Where(o => o.Error is null).ToList();
        var errors = outcomes.Where(o => o.Error is not null).GroupBy(o => o.Error!)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        return new ServeBenchReport(settings, ok.Count, outcomes.Count - ok.Count, errors, durationSeconds,
            ok.Sum(o => (long)o.PromptTokens), ok.Sum(o => (long)o.OutputTokens),
            LatencySummary.Of(ok.Select(o => o.TtftMs).ToList()),
            LatencySummary.Of(ok.Select(o => o.TpotMs).Where(double.IsFinite).ToList()),
            LatencySummary.Of(ok.SelectMany(o => o.ItlMs).ToList()),
            LatencySummary.Of(ok.Select(o => o.E2eMs).ToList()));
    }

    public double RequestThroughput => PerSecond(Completed);
    public double OutputThroughput => PerSecond(TotalOutputTokens);
    public double TotalTokenThroughput => PerSecond(TotalInputTokens + TotalOutputTokens);

    private double PerSecond(double count) => DurationSeconds > 0 ? count / DurationSeconds : 0;

    private string RateText => double.IsPositiveInfinity(Settings.RequestRate) ? "inf" : Settings.RequestRate.ToString(CultureInfo.InvariantCulture);

    public string ToJson() => Json.Object(w =>
    {
        w.WriteString("engine", "orleans-infer");
        w.WriteString("api", Settings.ApiName);
        w.WriteString("url", Settings.Url.ToString().TrimEnd('/'));
        if (Settings.Model is null) w.WriteNull("model"); else w.WriteString("model", Settings.Model);
        w.WriteNumber("num_prompts", Settings.Workload.Requests);
        // "inf" is not a JSON number, so an unlimited rate is written as the string --request-rate takes.
        if (double.IsPositiveInfinity(Settings.RequestRate)) w.WriteString("request_rate", "inf");
        else w.WriteNumber("request_rate", Settings.RequestRate);
        if (Settings.MaxConcurrency is { } c) w.WriteNumber("max_concurrency", c); else w.WriteNull("max_concurrency");
        w.WriteNumber("seed", Settings.Workload.Seed);
        w.WriteNumber("completed", Completed);
        w.WriteNumber("failed", Failed);
        w.WriteStartObject("errors");
        foreach (var (status, count) in Errors) w.WriteNumber(status, count);
        w.WriteEndObject();
        w.WriteNumber("duration_s", Math.Round(DurationSeconds, 3));
        w.WriteNumber("total_input_tokens", TotalInputTokens);
        w.WriteNumber("total_output_tokens", TotalOutputTokens);
        w.WriteNumber("request_throughput", Math.Round(RequestThroughput, 3));
        w.WriteNumber("output_throughput", Math.Round(OutputThroughput, 2));
        w.WriteNumber("total_token_throughput", Math.Round(TotalTokenThroughput, 2));
        Summary(w, "ttft_ms", Ttft);
        Summary(w, "tpot_ms", Tpot);
        Summary(w, "itl_ms", Itl);
        Summary(w, "e2e_ms", E2e);
    });

    private static void Summary(Utf8JsonWriter w, string name, LatencySummary s)
    {
        w.WriteStartObject(name);
        Number(w, "mean", s.Mean);
        Number(w, "p50", s.P50);
        Number(w, "p90", s.P90);
        Number(w, "p99", s.P99);
        w.WriteEndObject();
    }

    // NaN (nothing measured, e.g. every request failed) is not valid JSON; null says "no data".
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, Math.Round(value, 3));
        else w.WriteNull(name);
    }

    public string ToText()
    {
        var b = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var limit = Settings.MaxConcurrency is { } c ? $", at most {c} in flight" : "";
        b.AppendLine(inv, $"bench serve: {Settings.ApiName} at {Settings.Url.ToString().TrimEnd('/')}, {Settings.Workload.Requests} prompts at {RateText} req/s{limit}");
        b.AppendLine(inv, $"  completed {Completed}, failed {Failed}{(Errors.Count > 0 ? " (" + string.Join(", ", Errors.Select(e => $"{e.Key}: {e.Value}")) + ")" : "")} in {DurationSeconds:F2} s");
        b.AppendLine(inv, $"  {RequestThroughput:F2} req/s, {OutputThroughput:F1} output tokens/s, {TotalTokenThroughput:F1} total tokens/s ({TotalInputTokens} in, {TotalOutputTokens} out)");
        b.AppendLine("  ms           mean        p50        p90        p99");
        foreach (var (name, s) in new[] { ("ttft", Ttft), ("tpot", Tpot), ("itl", Itl), ("e2e", E2e) })
            b.AppendLine(inv, $"  {name,-6} {s.Mean,10:F2} {s.P50,10:F2} {s.P90,10:F2} {s.P99,10:F2}");
        return b.ToString().TrimEnd();
    }
}
