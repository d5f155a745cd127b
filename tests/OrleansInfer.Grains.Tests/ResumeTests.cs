using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Engine.Core;
using OrleansInfer.Grains.Workers;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

/// <summary>
/// Requests of every kind handed from one worker to another mid-way: the client carries what each output (or best_of
/// candidate) produced and its sampler state, so seeded sampled outputs come out exactly as in an undisturbed run.
/// </summary>
[Collection(nameof(ClusterCollection))]
public sealed class ResumeTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string, int, int?> Kinds() => new()
    {
        { "one sampled output", 1, null },
        { "n = 3 sampled outputs", 3, null },
        { "best_of = 3, n = 2", 2, 3 },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ASeededRequestMovedMidWayEqualsTheUndisturbedRun(string kind, int n, int? bestOf)
    {
        var prompt = SharedData.Reference.Cases[0].PromptTokenIds;
        var sampling = new SamplingSpec { Temperature = 0.9f, TopP = 0.95f, Seed = 1234, MaxTokens = 24, IgnoreEos = true, N = n, BestOf = bestOf, Logprobs = 2 };
        var from = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_1");
        var to = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");

        var undisturbed = await Outputs(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, Request(prompt, sampling), pinnedWorker: from));

        // Hand the request off mid-way: the source engine is held after its 8th step until the hand-off is asked for.
        var engine = ClusterFixture.EnginesOf(fixture.Cluster, "Silo_1").Get(0);
        var request = Request(prompt, sampling);
        var steps = 0;
        var midway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        void Count(EngineStepStats _)
        {
            if (Interlocked.Increment(ref steps) != 8) return;
            midway.TrySetResult();
            release.Wait(Timeout);
        }
        engine.StepCompleted += Count;
        var recoveries = new List<StreamRecovery>();
        try
        {
            var moved = Outputs(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, request, pinnedWorker: from, onRecovery: r => { lock (recoveries) recoveries.Add(r); }));
            await midway.Task.WaitAsync(Timeout);
            Assert.True(await fixture.Cluster.Client.GetGrain<IWorkerControl>(from).MoveRequest(request.RequestId, to), $"{kind}: the request should still be running on {from}");
            release.Set();
            var result = await moved.WaitAsync(Timeout);

            Assert.Equal(RecoveryKind.Moved, Assert.Single(recoveries).Kind);
            Assert.Equal(undisturbed.Keys, result.Keys);
            foreach (var (index, output) in undisturbed)
            {
                Assert.Equal(output.Tokens, result[index].Tokens);
                Assert.Equal(output.Text, result[index].Text);
                Assert.Equal(output.Finish, result[index].Finish);
                Assert.Equal(output.Logprobs, result[index].Logprobs);
            }
        }
        finally
        {
            engine.StepCompleted -= Count;
            release.Set();
        }
        Assert.True(await fixture.Cluster.Client.GetGrain<IWorkerControl>(from).WaitForIdle(Timeout), "expected the source worker to drop the moved request");
        Assert.Equal(32, (await fixture.Cluster.Client.GetGrain<IWorkerGrain>(from).GetLoad()).FreeBlocks);
    }

    private static GenerateRequest Request(int[] prompt, SamplingSpec sampling) => new() { RequestId = Guid.NewGuid().ToString("N"), PromptTokens = prompt, Sampling = sampling };

    private sealed record Output(List<int> Tokens, string Text, string? Finish, List<int> Logprobs);

    /// <summary>Each output's tokens, text, finish reason and the token ids of its log-probabilities.</summary>
    private static async Task<SortedDictionary<int, Output>> Outputs(IAsyncEnumerable<TokenChunk> stream)
    {
        var outputs = new SortedDictionary<int, Output>();
        await foreach (var c in stream)
        {
            if (!outputs.TryGetValue(c.Index, out var o)) outputs[c.Index] = o = new Output([], "", null, []);
            o.Tokens.AddRange(c.TokenIds);
            o.Logprobs.AddRange((c.Logprobs ?? []).Select(l => l.TokenId));
            outputs[c.Index] = o with { Text = o.Text + c.Text, Finish = c.FinishReason ?? o.Finish };
        }
        return outputs;
    }
}
