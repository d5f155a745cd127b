using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Engine.Baselines;

namespace OrleansInfer.Cli.Bench;

/// <summary>
/// The gRPC API: <c>orleansinfer.v1.Inference/Generate</c> with token_ids input over plain HTTP/2. Each chunk
/// carries its token ids, so the count is exact even without usage; one chunk is one arrival for the ITLs.
/// </summary>
public sealed class ServeBenchGrpcClient : IServeBenchClient
{
    private readonly GrpcChannel _channel;
    private readonly Inference.InferenceClient _client;
    private readonly Metadata _headers = [];
    private readonly Uri _url;

    public ServeBenchGrpcClient(Uri url, string? apiKey)
    {
        _url = url;
        // One HTTP/2 connection allows about 100 concurrent streams; more connections let an unlimited run
        // put every request in flight instead of queueing them inside the client.
        _channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, ConnectTimeout = TimeSpan.FromSeconds(10) },
            DisposeHttpClient = true,
        });
        _client = new Inference.InferenceClient(_channel);
        if (apiKey is not null) _headers.Add("authorization", $"Bearer {apiKey}");
    }

    public async Task<ServeServerInfo> ProbeAsync(string? model, CancellationToken ct)
    {
        try
        {
            var list = await _client.ListModelsAsync(new ListModelsRequest(), _headers, DateTime.UtcNow.AddSeconds(30), ct);
            var chosen = model is null ? (list.Models.Count == 1 ? list.Models[0] : null) : list.Models.FirstOrDefault(m => m.Id == model);
            return chosen is null ? new ServeServerInfo(null, null) : new ServeServerInfo(chosen.Id, chosen.MaxModelLen > 0 ? chosen.MaxModelLen : null);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is { } cause)
        {
            // UNAVAILABLE is also the server's "no worker serves the model"; only a client-side transport failure
            // (the one kind that carries a DebugException) means the server cannot be reached.
            var inner = cause.InnerException ?? cause;
            throw new CliException($"cannot reach {_url.ToString().TrimEnd('/')}: {inner.Message.Split('\n')[0].TrimEnd()}", ExitCodes.Failure);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            throw new CliException($"{_url.ToString().TrimEnd('/')} refused the API key ({StatusName(e.StatusCode)}); give --api-key", ExitCodes.Failure);
        }
        catch (RpcException)
        {
            // An older server without ListModels: the run goes on without the up-front context check.
            return new ServeServerInfo(null, null);
        }
    }

    public async Task<RequestOutcome> SendAsync(WorkloadRequest request, string? model, CancellationToken ct)
    {
        var generate = new GenerateRequest
        {
            Model = model ?? "",
            TokenIds = new TokenIds { Ids = { request.Prompt } },
            // Greedy and past EOS: exactly max_tokens tokens, as in `bench throughput`.
            Sampling = new SamplingParams { MaxTokens = request.OutputTokens, Temperature = 0, IgnoreEos = true },
        };
        var clock = new TokenClock();
        try
        {
            using var call = _client.Generate(generate, _headers, cancellationToken: ct);
            int? promptTokens = null, usageTokens = null;
            var completed = false;
            await foreach (var response in call.ResponseStream.ReadAllAsync(ct))
            {
                if (response.Chunk is { TokenIds.Count: > 0 } chunk) clock.Arrived(chunk.TokenIds.Count);
                else if (response.Complete is { } complete)
                {
                    completed = true;
                    if (complete.Usage is { } usage)
                    {
                        usageTokens = usage.CompletionTokens;
                        promptTokens = usage.PromptTokens;
                    }
                }
            }
            return completed ? clock.Done(promptTokens ?? request.Prompt.Length, usageTokens) : RequestOutcome.Failed("incomplete");
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !ct.IsCancellationRequested)
        {
            return RequestOutcome.Failed(StatusName(e.StatusCode));
        }
    }

    /// <summary>The canonical gRPC name of a status (ResourceExhausted → RESOURCE_EXHAUSTED), as the proto documents them.</summary>
    public static string StatusName(StatusCode code)
    {
        if (code == StatusCode.OK) return "OK";
        var name = code.ToString();
        var b = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) b.Append('_');
            b.Append(char.ToUpperInvariant(name[i]));
        }
        return b.ToString();
    }

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
