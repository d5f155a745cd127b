using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>
/// An <see cref="IInferenceCluster"/> whose generation a test scripts (failures at chosen points, captured requests),
/// behind a real gateway: for what a real cluster cannot be made to do on cue.
/// </summary>
public sealed class FakeCluster : IInferenceCluster
{
    private static readonly Lazy<Tokenizer> Tok512 = new(() => Tokenizer.Create(Vocabulary.FromLlama2cTokenizer(SharedData.Tok512, 512)));

    public ServedModel Model { get; } = new("fake", Tok512.Value, 128, null, "model 'fake' has no chat template", DateTimeOffset.UtcNow);

    /// <summary>The requests received, in order.</summary>
    public List<GenerateRequest> Requests { get; } = [];

    /// <summary>What a generation does; by default one "Hi" token then the end.</summary>
    public Func<GenerateRequest, CancellationToken, IAsyncEnumerable<TokenChunk>> Generate { get; set; } = (r, ct) => Script(ct, Token("Hi", "length"));

    public static TokenChunk Token(string text, string? finish = null) =>
        new() { TokenIds = [300], Text = text, FinishReason = finish, Usage = finish is null ? null : new UsageReport(3, 1, 0) };

    /// <summary>Yields the chunks, then throws <paramref name="error"/> when given.</summary>
    public static async IAsyncEnumerable<TokenChunk> Script([EnumeratorCancellation] CancellationToken ct, TokenChunk first, Exception? error = null)
    {
        await Task.Yield();
        ct.ThrowIfCancellationRequested();
        yield return first;
        if (error is not null) throw error;
    }

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>(["fake"]);

    public Task<ServedModel> GetModelAsync(string? name, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(name) || name == "fake" ? Task.FromResult(Model) : throw new GatewayException(GatewayErrorKind.NotFound, $"The model `{name}` does not exist.", "model");

    public IAsyncEnumerable<TokenChunk> GenerateAsync(ServedModel model, GenerateRequest request, CancellationToken cancellationToken)
    {
        lock (Requests) Requests.Add(request);
        return Generate(request, cancellationToken);
    }

    /// <summary>What GetWorkersAsync answers (none by default).</summary>
    public IReadOnlyList<WorkerLoad> Workers { get; set; } = [];

    /// <summary>When set, GetWorkersAsync throws it (a cluster that cannot be read).</summary>
    public Exception? WorkersError { get; set; }

    public Task<IReadOnlyList<WorkerLoad>> GetWorkersAsync(string? model, CancellationToken cancellationToken) =>
        WorkersError is { } error ? Task.FromException<IReadOnlyList<WorkerLoad>>(error) : Task.FromResult(Workers);

    /// <summary>A gateway in front of this fake on free loopback ports.</summary>
    public async Task<(WebApplication App, HttpClient Http)> StartGatewayAsync(Action<GatewayOptions>? configure = null)
    {
        var options = new GatewayOptions { Port = FreePorts.Next(), GrpcPort = FreePorts.Next() };
        configure?.Invoke(options);
        var app = GatewayApp.Build(options, this);
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{options.Port}") });
    }
}
