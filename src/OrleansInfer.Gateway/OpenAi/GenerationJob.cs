using System.Runtime.CompilerServices;
using System.Threading.Channels;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.Telemetry;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>One prompt of a job: its tokens, and the text echo puts before its choices (completions with echo).</summary>
internal sealed record JobPrompt(int[] TokenIds, string? Echo);

/// <summary>
/// A validated completions or chat call ready to run: every prompt becomes one cluster request with the same sampling;
/// choice i*n+k is output k of prompt i (prompt-major, as OpenAI and vLLM number them).
/// </summary>
internal sealed record GenerationJob(ServedModel Model, string Id, long Created, bool Chat, IReadOnlyList<JobPrompt> Prompts, SamplingSpec Sampling, int Priority, StreamSettings Streaming)
{
    public int ChoiceCount => Prompts.Count * Sampling.N;

    /// <summary>Each prompt's own sampling (max_tokens defaults to what its context leaves); <see cref="Sampling"/> when unset.</summary>
    public IReadOnlyList<SamplingSpec>? PromptSampling { get; init; }

    /// <summary>The call's observation: every prompt's generation goes through it.</summary>
    public GenAiRequest? Telemetry { get; init; }

    public int ChoiceOf(int prompt, int output) => prompt * Sampling.N + output;

    /// <summary>
    /// Runs every prompt and yields their chunks as they come (prompts interleaved), without heartbeats. A failure of
    /// any prompt ends the whole call (the others are cancelled); so does <paramref name="cancellationToken"/>.
    /// </summary>
    public IAsyncEnumerable<(int Prompt, TokenChunk Chunk)> RunAsync(IInferenceCluster cluster, CancellationToken cancellationToken) =>
        Prompts.Count == 1 ? RunOneAsync(cluster, cancellationToken) : RunManyAsync(cluster, cancellationToken);

    private GenerateRequest RequestOf(int prompt) => new()
    {
        RequestId = Prompts.Count == 1 ? Id : $"{Id}-{prompt}",
        PromptTokens = Prompts[prompt].TokenIds,
        Sampling = PromptSampling?[prompt] ?? Sampling,
        Priority = Priority,
    };

    private IAsyncEnumerable<TokenChunk> GenerateAsync(IInferenceCluster cluster, int prompt, CancellationToken cancellationToken) =>
        Telemetry is { } observed
            ? observed.GenerateAsync(cluster, Model, RequestOf(prompt), cancellationToken)
            : cluster.GenerateAsync(Model, RequestOf(prompt), cancellationToken);

    private async IAsyncEnumerable<(int, TokenChunk)> RunOneAsync(IInferenceCluster cluster, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var chunk in GenerateAsync(cluster, 0, cancellationToken).ConfigureAwait(false))
        {
            if (!chunk.IsHeartbeat && !chunk.Progress) yield return (0, chunk);
        }
    }

    private async IAsyncEnumerable<(int, TokenChunk)> RunManyAsync(IInferenceCluster cluster, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<(int, TokenChunk)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = Enumerable.Range(0, Prompts.Count).Select(async prompt =>
        {
            await foreach (var chunk in GenerateAsync(cluster, prompt, stop.Token).ConfigureAwait(false))
            {
                if (!chunk.IsHeartbeat && !chunk.Progress) await channel.Writer.WriteAsync((prompt, chunk), stop.Token).ConfigureAwait(false);
            }
        }).ToList();
        // The first failure completes the channel with it; the reader sees it after the chunks before it.
        _ = Task.WhenAll(pumps).ContinueWith(t =>
        {
            var error = t.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? t.Exception?.InnerException;
            channel.Writer.TryComplete(error);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        foreach (var pump in pumps)
        {
            // A failed prompt cancels its siblings at once, so their workers free the blocks.
            _ = pump.ContinueWith(t => { if (t.IsFaulted) CancelQuietly(stop); }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)) yield return item;
        }
        finally
        {
            // Leaving early (client gone, write failed): end the prompts still running and wait for them to let go.
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(pumps).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Already reported through the channel, or a consequence of cancelling.
            }
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call already ended.
        }
    }
}
