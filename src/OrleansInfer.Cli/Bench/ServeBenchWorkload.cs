using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Baselines;

namespace OrleansInfer.Cli.Bench;

/// <summary>The two protocols `bench serve` can drive.</summary>
public enum ServeApi
{
    /// <summary>POST /v1/completions with a token-id prompt, streamed as server-sent events.</summary>
    OpenAi,
    /// <summary>orleansinfer.v1.Inference/Generate with token_ids input, server-streaming over HTTP/2.</summary>
    Grpc,
}

/// <summary>Everything one `bench serve` run needs, validated by the command before it gets here.</summary>
/// <param name="Api">Which protocol to send the requests over.</param>
/// <param name="Url">Base address of the gateway (http://HOST:PORT), without /v1.</param>
/// <param name="Model">Model id sent with every request; null lets the server pick its only model.</param>
/// <param name="Workload">The seeded prompts and output lengths (those of `bench throughput`).</param>
/// <param name="RequestRate">Mean requests per second of the Poisson arrivals; +∞ sends everything at once.</param>
/// <param name="MaxConcurrency">Most requests in flight at once; null for no limit.</param>
/// <param name="VocabSize">Prompt token ids are drawn from [3, VocabSize), as `bench throughput` draws them.</param>
/// <param name="ApiKey">Sent as a bearer token (HTTP header or gRPC metadata); null sends none.</param>
public sealed record ServeBenchSettings(
    ServeApi Api,
    Uri Url,
    string? Model,
    ThroughputWorkload Workload,
    double RequestRate,
    int? MaxConcurrency,
    int VocabSize,
    string? ApiKey)
{
    /// <summary>The name the report uses for the API (the value of --api).</summary>
    public string ApiName => Api == ServeApi.Grpc ? "grpc" : "openai";
}

/// <summary>
/// The requests of a run and when each is sent. The prompts and output lengths come from
/// <see cref="ThroughputWorkload"/> unchanged, so a `bench serve` run and a `bench throughput` run with the same
/// --seed, --num-prompts and length ranges push exactly the same tokens.
/// </summary>
public static class ServeBenchWorkload
{
    /// <summary>The seeded requests (prompt token ids and exact output lengths).</summary>
    public static IReadOnlyList<WorkloadRequest> Requests(ServeBenchSettings settings) => settings.Workload.Build(settings.VocabSize);

    /// <summary>
    /// Send times of <paramref name="count"/> requests, as offsets from the start: a Poisson process of
    /// <paramref name="rate"/> requests/s (exponential gaps), or all zero for an infinite rate.
    /// </summary>
    /// <remarks>
    /// The gaps use their own generator, derived from the seed, so the workload's token ids do not depend on the
    /// rate: changing --request-rate changes when requests go out, never what they contain. The first request
    /// goes out at once, like vLLM's benchmark_serving (it sleeps after each request, not before).
    /// </remarks>
    public static TimeSpan[] Arrivals(int count, double rate, int seed)
    {
        var offsets = new TimeSpan[count];
        if (double.IsPositiveInfinity(rate)) return offsets;
        var rng = new Random(unchecked(seed * 31 + 17));
        var t = 0.0;
        for (var i = 0; i < count; i++)
        {
            offsets[i] = TimeSpan.FromSeconds(t);
            // Inverse-CDF sampling; 1 - U is in (0, 1] so the logarithm is finite.
            t += -Math.Log(1.0 - rng.NextDouble()) / rate;
        }
        return offsets;
    }
}

/// <summary>Turns the text of `bench serve`'s options into settings; bad values are one-line usage errors (exit 2).</summary>
internal static class ServeBenchArguments
{
    /// <summary>An absolute http(s) base address; a trailing /v1 is dropped since the clients add their own paths.</summary>
    public static Uri Url(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0)
            throw new CliException($"--url must be an http:// or https:// address (http://HOST:PORT), got '{text}'");
        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/v1", StringComparison.Ordinal)) path = path[..^3];
        return new UriBuilder(uri) { Path = path + "/" }.Uri;
    }

    /// <summary>Requests per second: a positive number, or inf (everything at once).</summary>
    public static double Rate(string text)
    {
        if (text.Equals("inf", StringComparison.OrdinalIgnoreCase)) return double.PositiveInfinity;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var rate) && double.IsFinite(rate) && rate > 0) return rate;
        throw new CliException($"--request-rate must be a positive number of requests/s or inf, got '{text}'");
    }
}
