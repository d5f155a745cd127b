using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>
/// A tiny stand-in for the gateway, for `bench serve` tests: /v1/models and /v1/completions (SSE, one token per
/// chunk, then usage and [DONE]) on an HTTP/1.1 port, and Inference.Generate on an HTTP/2 port. Every
/// <c>failEvery</c>-th request (counted across both APIs) is refused: 503 over HTTP, RESOURCE_EXHAUSTED over gRPC.
/// It records what it was asked for so tests can compare it with the seeded workload.
/// </summary>
public sealed class FakeGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    /// <summary>One request as received: prompt ids and the sampling fields the benchmark must set.</summary>
    public sealed record Received(int[] Prompt, int MaxTokens, double Temperature, bool IgnoreEos);

    public ConcurrentQueue<Received> Requests { get; } = new();
    public int FailEvery { get; }
    public string? ApiKey { get; }
    public int MaxModelLen { get; }
    public string HttpUrl { get; }
    public string GrpcUrl { get; }

    private FakeGateway(int failEvery, string? apiKey, int maxModelLen)
    {
        (FailEvery, ApiKey, MaxModelLen) = (failEvery, apiKey, maxModelLen);
        int httpPort = FreePorts.Next(), grpcPort = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, httpPort, o => o.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, grpcPort, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(this);
        _app = builder.Build();
        _app.MapGet("/v1/models", (HttpContext c) => Authorized(c)
            ? Results.Json(new { @object = "list", data = new[] { new { id = "fake", @object = "model", max_model_len = MaxModelLen } } })
            : Results.StatusCode(401));
        _app.MapPost("/v1/completions", Completions);
        _app.MapGrpcService<FakeInference>();
        HttpUrl = $"http://127.0.0.1:{httpPort}";
        GrpcUrl = $"http://127.0.0.1:{grpcPort}";
    }

    public static async Task<FakeGateway> StartAsync(int failEvery = 0, string? apiKey = null, int maxModelLen = 2048)
    {
        var fake = new FakeGateway(failEvery, apiKey, maxModelLen);
        await fake._app.StartAsync();
        return fake;
    }

    /// <summary>Counts a request; true when this one is to be refused.</summary>
    public bool NextFails() => FailEvery > 0 && Interlocked.Increment(ref _count) % FailEvery == 0;

    private bool Authorized(HttpContext c) => ApiKey is null || c.Request.Headers.Authorization == $"Bearer {ApiKey}";

    private async Task Completions(HttpContext c)
    {
        if (!Authorized(c)) { c.Response.StatusCode = 401; return; }
        using var doc = await JsonDocument.ParseAsync(c.Request.Body);
        var body = doc.RootElement;
        var prompt = body.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var maxTokens = body.GetProperty("max_tokens").GetInt32();
        var usage = body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean();
        if (NextFails()) { c.Response.StatusCode = 503; return; }
        Requests.Enqueue(new Received(prompt, maxTokens, body.GetProperty("temperature").GetDouble(), body.GetProperty("ignore_eos").GetBoolean()));
        c.Response.ContentType = "text/event-stream";
        for (var i = 0; i < maxTokens; i++)
        {
            var chunk = new { id = "cmpl-1", @object = "text_completion", model = "fake", choices = new[] { new { index = 0, text = $" t{i}", finish_reason = i == maxTokens - 1 ? "length" : null } } };
            await c.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n");
            await c.Response.Body.FlushAsync();
            // A real gap between tokens, so the ITLs are non-zero; no assertion depends on its length.
            await Task.Delay(1);
        }
        if (usage)
            await c.Response.WriteAsync($"data: {JsonSerializer.Serialize(new { id = "cmpl-1", choices = Array.Empty<object>(), usage = new { prompt_tokens = prompt.Length, completion_tokens = maxTokens, total_tokens = prompt.Length + maxTokens } })}\n\n");
        await c.Response.WriteAsync("data: [DONE]\n\n");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The fake's gRPC side: N chunks of one token for max_tokens N, then Complete with usage.</summary>
internal sealed class FakeInference(FakeGateway gateway) : Inference.InferenceBase
{
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context)
    {
        Authorize(context);
        return Task.FromResult(new ListModelsResponse { Models = { new ModelInfo { Id = "fake", MaxModelLen = gateway.MaxModelLen } } });
    }

    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        Authorize(context);
        if (gateway.NextFails()) throw new RpcException(new Status(StatusCode.ResourceExhausted, "full"));
        var n = request.Sampling.MaxTokens;
        gateway.Requests.Enqueue(new FakeGateway.Received(request.TokenIds.Ids.ToArray(), n, request.Sampling.Temperature, request.Sampling.IgnoreEos));
        for (var i = 0; i < n; i++)
        {
            await responseStream.WriteAsync(new GenerateResponse { Chunk = new Chunk { Index = 0, TokenIds = { 3 + i }, Text = $" t{i}" } });
            await Task.Delay(1);
        }
        await responseStream.WriteAsync(new GenerateResponse
        {
            Complete = new Complete { Index = 0, FinishReason = "length", Usage = new Usage { PromptTokens = request.TokenIds.Ids.Count, CompletionTokens = n } },
        });
    }

    private void Authorize(ServerCallContext context)
    {
        if (gateway.ApiKey is not null && context.RequestHeaders.GetValue("authorization") != $"Bearer {gateway.ApiKey}")
            throw new RpcException(new Status(StatusCode.Unauthenticated, "bad key"));
    }
}
