using System.Runtime.CompilerServices;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// The caller's side of a submitted request: its chunks as an async stream, and cancellation (the engine
/// drops the request at its next step and frees its blocks). Abandoning the enumeration cancels too.
/// </summary>
public sealed class RequestStream : IAsyncEnumerable<GenerationChunk>
{
    private readonly LlmEngine _engine;
    private readonly RequestState _state;

    internal RequestStream(LlmEngine engine, RequestState state)
    {
        _engine = engine;
        _state = state;
    }

    public long RequestId => _state.Id;

    public int[] PromptTokenIds => _state.Prompt;

    /// <summary>
    /// True from submission until the request is first admitted to the running set, and again while it waits after a
    /// preemption; false once running or ended. Safe to read from any thread (a worker moves waiting requests by it).
    /// </summary>
    public bool IsWaiting => _state.IsWaiting;

    /// <summary>Asks the engine to drop the request; the stream then ends with <see cref="OperationCanceledException"/>.</summary>
    public void Cancel() => _engine.Abort(_state);

    public async IAsyncEnumerator<GenerationChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        await using var registration = cancellationToken.Register(Cancel);
        var reader = _state.Output.Reader;
        var completed = false;
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
                if (!more) break;
                while (reader.TryRead(out var chunk))
                {
                    // A cancelled caller gets no more chunks, even ones already produced.
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return chunk;
                }
            }
            completed = true;
        }
        finally
        {
            if (!completed) Cancel();
        }
    }

    /// <summary>Reads the whole stream and assembles each output (progress chunks are not part of it).</summary>
    public async Task<GenerationResult> CollectAsync(CancellationToken cancellationToken = default)
    {
        var outputs = new SortedDictionary<int, OutputBuilder>();
        UsageInfo? usage = null;
        await foreach (var chunk in this.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (chunk.IsProgress) continue;
            if (!outputs.TryGetValue(chunk.Index, out var o)) outputs[chunk.Index] = o = new OutputBuilder();
            o.Add(chunk);
            usage = chunk.Usage ?? usage;
        }
        var list = outputs.Select(kv => kv.Value.Build(kv.Key)).ToList();
        return new GenerationResult(_state.Prompt, list, usage ?? new UsageInfo(_state.Prompt.Length, list.Sum(o => o.TokenIds.Length), 0));
    }

    private sealed class OutputBuilder
    {
        private readonly List<int> _tokens = [];
        private readonly System.Text.StringBuilder _text = new();
        private List<TokenLogprobs>? _logprobs;
        private Generation.FinishReason _finish = Generation.FinishReason.Length;
        private double _cumulative;

        public void Add(GenerationChunk c)
        {
            _tokens.AddRange(c.TokenIds);
            _text.Append(c.Text);
            if (c.Logprobs is not null)
            {
                _logprobs ??= [];
                _logprobs.AddRange(c.Logprobs);
                foreach (var l in c.Logprobs) _cumulative += l.Logprob;
            }
            if (c.FinishReason is { } f) _finish = f;
        }

        public GenerationOutput Build(int index) => new(index, [.. _tokens], _text.ToString(), _finish, _cumulative, _logprobs);
    }
}
