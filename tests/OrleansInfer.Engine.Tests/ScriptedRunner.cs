using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// A model runner whose next token is a fixed function of the last token, (t * 3 + 1) mod vocab, so the engine's
/// bookkeeping can be tested exactly. It keeps block tables like a real runner and records what it was sent.
/// </summary>
public sealed class ScriptedRunner : IModelRunner
{
    private readonly BlockTables _tables = new();

    public ScriptedRunner(int vocab = 8, int context = 64, int blocks = 32, int blockSize = 4, int maxBatchTokens = 64, int maxSequences = 16)
    {
        Config = new LlamaConfig
        {
            ContextLength = context, EmbeddingLength = 8, BlockCount = 1, FeedForwardLength = 8, HeadCount = 1,
            KvHeadCount = 1, VocabSize = vocab, RopeDimensionCount = 8,
        };
        KvCache = new KvCacheInfo(blockSize, blocks, 64);
        MaxBatchTokens = maxBatchTokens;
        MaxBatchSequences = maxSequences;
    }

    public LlamaConfig Config { get; }
    public KvCacheInfo KvCache { get; }
    public int MaxBatchTokens { get; }
    public int MaxBatchSequences { get; }
    public string DeviceName => "scripted";

    /// <summary>Sequences the runner still holds a block table for.</summary>
    public int LiveSequences => _tables.Count;

    public List<int> TokensPerStep { get; } = [];

    public static int Next(int token, int vocab) => (token * 3 + 1) % vocab;

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        _tables.Apply(batch, KvCache.BlockCount);
        if (batch.TokenCount == 0) return;
        if (batch.TokenCount > MaxBatchTokens) throw new InvalidOperationException("over the token budget");
        TokensPerStep.Add(batch.TokenCount);
        var vocab = Config.VocabSize;
        var row = 0;
        foreach (ref readonly var s in batch.Sequences)
        {
            _tables.For(s, KvCache.BlockSize); // throws when the engine forgot to send blocks
            if (!s.ComputeLogits) continue;
            var output = logits.Slice(row++ * vocab, vocab);
            output.Fill(-10f);
            output[Next(batch.TokensOf(s)[^1], vocab)] = 10f;
        }
    }

    public void Dispose()
    {
    }
}
