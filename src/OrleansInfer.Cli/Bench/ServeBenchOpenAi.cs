using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Baselines;

namespace OrleansInfer.Cli.Bench;

/// <summary>What the server said about itself before the run; either field may be unknown.</summary>
/// <param name="ModelId">The model to send when --model is not given (the server's only model).</param>
/// <param name="MaxModelLen">The model's context, to refuse a workload that cannot fit before sending it.</param>
public sealed record ServeServerInfo(string? ModelId, int? MaxModelLen);

/// <summary>One protocol's way to probe the server and to send one measured request.</summary>
public interface IServeBenchClient : IAsyncDisposable
{
    /// <summary>Checks the server answers; throws a one-line exit-1 <c>CliException</c> when it cannot be reached or refuses the key.</summary>
    Task<ServeServerInfo> ProbeAsync(string? model, CancellationToken ct);

    /// <summary>Sends one request and times its stream; server and transport errors come back as a failed outcome, never thrown.</summary>
    Task<RequestOutcome> SendAsync(WorkloadRequest request, string? model, CancellationToken ct);
}

/// <summary>
/// The OpenAI-compatible HTTP API: <c>POST /v1/completions</c> with a token-id prompt, streamed as server-sent
/// events. A chunk whose choice carries text counts as one token arrival (as vLLM's benchmark counts them); the
/// exact output count comes from the final usage chunk, which <c>stream_options.include_usage</c> asks for.
/// </summary>
public sealed class ServeBenchOpenAiClient : IServeBenchClient
{
    private readonly HttpClient _http;
    private readonly Uri _base;

    public ServeBenchOpenAiClient(Uri url, string? apiKey)
    {
        _base = url;
        // No overall timeout: a long generation is measured, not cut off. Connections are not capped, so
        // --max-concurrency (not the handler) decides how many requests are in flight.
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan };
        if (apiKey is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public async Task<ServeServerInfo> ProbeAsync(string? model, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(new Uri(_base, "v1/models"), ct);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach {_base.ToString().TrimEnd('/')}: {e.Message}", ExitCodes.Failure);
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw new CliException($"{_base.ToString().TrimEnd('/')} refused the API key (HTTP {(int)response.StatusCode}); give --api-key", ExitCodes.Failure);
            // Anything else (no /v1/models, a proxy's odd answer) only means we learn nothing up front.
            if (!response.IsSuccessStatusCode) return new ServeServerInfo(null, null);
            try
            {
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                var models = doc.RootElement.GetProperty("data").EnumerateArray()
                    .Select(m => (Id: m.GetProperty("id").GetString(), Len: m.TryGetProperty("max_model_len", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : (int?)null))
                    .ToList();
                var chosen = model is null ? (models.Count == 1 ? models[0] : default) : models.FirstOrDefault(m => m.Id == model);
                return new ServeServerInfo(chosen.Id, chosen.Len);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return new ServeServerInfo(null, null);
            }
        }
    }

    public async Task<RequestOutcome> SendAsync(WorkloadRequest request, string? model, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, "v1/completions")) { Content = new ByteArrayContent(Body(request, model)) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var clock = new TokenClock();
        try
        {
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode) return RequestOutcome.Failed(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            int? promptTokens = null, usageTokens = null;
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal)) continue; // blank separators, comments, event names
                var payload = line.AsSpan(5).Trim();
                if (payload.SequenceEqual("[DONE]")) return clock.Done(promptTokens ?? request.Prompt.Length, usageTokens);
                using var doc = JsonDocument.Parse(payload.ToString());
                var root = doc.RootElement;
                if (root.TryGetProperty("error", out _)) return RequestOutcome.Failed("stream_error");
                if (root.TryGetProperty("choices", out var choices) && choices.EnumerateArray().Any(c => c.TryGetProperty("text", out var t) && t.GetString() is { Length: > 0 }))
                    clock.Arrived(1);
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    if (usage.TryGetProperty("completion_tokens", out var c)) usageTokens = c.GetInt32();
                    if (usage.TryGetProperty("prompt_tokens", out var p)) promptTokens = p.GetInt32();
                }
            }
            // The stream ended without [DONE]: the server or a proxy cut it.
            return RequestOutcome.Failed("incomplete");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return RequestOutcome.Failed("connection_error");
        }
        catch (JsonException)
        {
            return RequestOutcome.Failed("bad_chunk");
        }
    }

    private static byte[] Body(WorkloadRequest request, string? model)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            if (model is not null) w.WriteString("model", model);
            w.WriteInts("prompt", request.Prompt);
            // Greedy and past EOS: the server produces exactly max_tokens tokens, so every run of a seed does the same work.
            w.WriteNumber("max_tokens", request.OutputTokens);
            w.WriteNumber("temperature", 0);
            w.WriteBoolean("ignore_eos", true);
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
