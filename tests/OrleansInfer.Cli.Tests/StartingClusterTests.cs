using System.Runtime.CompilerServices;
using OrleansInfer.Abstractions;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`serve`'s gateway while the silo loads the model: an empty cluster that refuses requests at once, then the real one.</summary>
public sealed class StartingClusterTests
{
    private static readonly GenerateRequest Request = new() { RequestId = "r1", PromptTokens = [1, 2, 3] };

    [Fact]
    public async Task WhileLoadingItServesNoModelAndRefusesRequestsWithRetryAfter()
    {
        var inner = new OneModelCluster();
        var cluster = new StartingCluster(inner);

        Assert.Empty(await cluster.ListModelsAsync(CancellationToken.None));
        Assert.Empty(await cluster.GetWorkersAsync(null, CancellationToken.None));
        var refused = await Assert.ThrowsAsync<GatewayException>(() => cluster.GetModelAsync("m", CancellationToken.None));
        Assert.Equal((GatewayErrorKind.Unavailable, TimeSpan.FromSeconds(5)), (refused.Kind, refused.RetryAfter));
        Assert.Equal("the server is still loading the model; try again shortly", refused.Message);
        var stream = cluster.GenerateAsync(inner.Model, Request, CancellationToken.None);
        Assert.Equal(GatewayErrorKind.Unavailable, (await Assert.ThrowsAsync<GatewayException>(async () => await stream.GetAsyncEnumerator().MoveNextAsync())).Kind);
        Assert.Equal(0, inner.Calls);
    }

    [Fact]
    public async Task OnceStartedEveryCallReachesTheCluster()
    {
        var inner = new OneModelCluster();
        var cluster = new StartingCluster(inner);
        // A stream asked for while loading but read after the start is served.
        var early = cluster.GenerateAsync(inner.Model, Request, CancellationToken.None);
        cluster.MarkStarted();

        Assert.Equal(["m"], await cluster.ListModelsAsync(CancellationToken.None));
        Assert.Same(inner.Model, await cluster.GetModelAsync("m", CancellationToken.None));
        Assert.Equal(["w"], (await cluster.GetWorkersAsync(null, CancellationToken.None)).Select(w => w.WorkerKey));
        Assert.Equal(["a", "b"], await early.Select(c => c.Text).ToListAsync());
        Assert.Equal(["a", "b"], await cluster.GenerateAsync(inner.Model, Request, CancellationToken.None).Select(c => c.Text).ToListAsync());
        Assert.Equal(5, inner.Calls);
    }

    private sealed class OneModelCluster : IInferenceCluster
    {
        private static readonly Lazy<Tokenizer> Vocabulary = new(() =>
        {
            using var file = ModelFile.Open(SharedData.Stories260KGguf);
            return Tokenizer.Create(file.Vocabulary);
        });

        public int Calls;

        public ServedModel Model { get; } = new("m", Vocabulary.Value, 512, null, null, DateTimeOffset.UnixEpoch);

        public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult<IReadOnlyList<string>>(["m"]);
        }

        public Task<ServedModel> GetModelAsync(string? name, CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult(Model);
        }

        public async IAsyncEnumerable<TokenChunk> GenerateAsync(ServedModel model, GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Calls++;
            await Task.Yield();
            yield return new TokenChunk { Text = "a" };
            yield return new TokenChunk { Text = "b" };
        }

        public Task<IReadOnlyList<WorkerLoad>> GetWorkersAsync(string? model, CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult<IReadOnlyList<WorkerLoad>>([new WorkerLoad { WorkerKey = "w", ModelId = "m" }]);
        }
    }
}
