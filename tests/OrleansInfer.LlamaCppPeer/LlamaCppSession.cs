using LLama;
using LLama.Common;
using LLama.Native;

namespace OrleansInfer.LlamaCppPeer;

/// <summary>
/// One GGUF model loaded in llama.cpp (through LLamaSharp) with one context, driven directly with
/// <see cref="LLamaBatch"/> and <see cref="SafeLLamaContextHandle.GetLogitsIth"/> so token ids are exact:
/// no sampler chain, no executor. The KV cache is F32 by default (llama.cpp's default F16 cache moves logits
/// by ~7e-3; F32 agrees with an f32 reference to ~7e-6). Not thread-safe: one caller at a time.
/// </summary>
public sealed class LlamaCppSession : IDisposable
{
    private readonly LLamaBatch _batch = new();

    static LlamaCppSession() => NativeLogging.Quiet();

    /// <param name="modelPath">A GGUF file.</param>
    /// <param name="threads">llama.cpp compute threads (generation and batch). Use 1 in tests on small machines: its threads spin.</param>
    /// <param name="contextSize">KV cells of the context; also the batch size, so a whole prompt is one llama_decode.</param>
    /// <param name="sequences">Sequences the context holds at once (llama.cpp's n_seq_max), each with contextSize / sequences cells.</param>
    /// <param name="kvType">Element type of the K and V caches.</param>
    /// <param name="flashAttention">llama.cpp's fused attention kernel; off keeps the plain soft-max path.</param>
    /// <param name="batchSize">Tokens one llama_decode may take (n_batch = n_ubatch); the context size when null.</param>
    public LlamaCppSession(string modelPath, int threads = 1, int contextSize = 512, int sequences = 1,
        GGMLType kvType = GGMLType.GGML_TYPE_F32, bool flashAttention = false, int? batchSize = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"model file not found: {modelPath}", modelPath);
        ModelPath = modelPath;
        Threads = threads;
        var tokensPerDecode = (uint)(batchSize ?? contextSize);
        Parameters = new ModelParams(modelPath)
        {
            ContextSize = (uint)contextSize,
            BatchSize = tokensPerDecode,
            UBatchSize = tokensPerDecode,
            SeqMax = (uint)sequences,
            KVUnified = false,
            GpuLayerCount = 0,
            Threads = threads,
            BatchThreads = threads,
            TypeK = kvType,
            TypeV = kvType,
            FlashAttention = flashAttention,
        };
        Weights = LLamaWeights.LoadFromFile(Parameters);
        try
        {
            Context = Weights.CreateContext(Parameters);
        }
        catch
        {
            Weights.Dispose();
            throw;
        }
        VocabSize = Weights.Vocab.Count;
    }

    public string ModelPath { get; }

    public int Threads { get; }

    public ModelParams Parameters { get; }

    public LLamaWeights Weights { get; }

    public LLamaContext Context { get; }

    public SafeLLamaContextHandle Handle => Context.NativeHandle;

    public int VocabSize { get; }

    /// <summary>KV cells of the context (llama.cpp's n_ctx, possibly padded up from the requested size).</summary>
    public int ContextSize => (int)Context.ContextSize;

    /// <summary>The training context the file declares (llama.context_length).</summary>
    public int TrainContextSize => Weights.ContextSize;

    /// <summary>Tokens one llama_decode accepts.</summary>
    public int BatchSize => (int)Handle.BatchSize;

    /// <summary>The end-of-sequence token, or -1 when the vocabulary has none.</summary>
    public int EosId => Weights.Vocab.EOS is { } eos ? (int)eos : -1;

    /// <summary>The beginning-of-sequence token, or -1 when the vocabulary has none.</summary>
    public int BosId => Weights.Vocab.BOS is { } bos ? (int)bos : -1;

    /// <summary>llama.cpp's tokenization (special tokens in the text are not parsed).</summary>
    public int[] Tokenize(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Context.Tokenize(text, addBos, special: false).Select(t => (int)t).ToArray();
    }

    /// <summary>llama.cpp's text for the tokens.</summary>
    public string Detokenize(IEnumerable<int> tokens)
    {
        var decoder = new StreamingTokenDecoder(Context);
        foreach (var t in tokens) decoder.Add(t);
        return decoder.Read();
    }

    /// <summary>
    /// Greedy generation from an empty KV cache: the whole prompt in one llama_decode, then one token per
    /// llama_decode, each the argmax of the last position's logits (the lowest id wins a tie).
    /// </summary>
    public int[] GenerateGreedy(int[] promptTokens, int maxTokens, bool stopAtEos = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 0);
        CheckPrompt(promptTokens, maxTokens);
        var generated = new List<int>(maxTokens);
        if (maxTokens == 0) return [];

        ClearKvCache();
        var position = 0;
        var row = DecodePrompt(promptTokens, ref position);
        while (true)
        {
            var token = Argmax(Handle.GetLogitsIth(row));
            generated.Add(token);
            if (generated.Count == maxTokens || (stopAtEos && Weights.Vocab.EOS is { } eos && token == (int)eos)) break;
            _batch.Clear();
            row = _batch.Add(token, position++, LLamaSeqId.Zero, true);
            Decode();
        }
        return [.. generated];
    }

    /// <summary>The logits at the last prompt position (one forward pass from an empty KV cache).</summary>
    public float[] PromptLogits(int[] promptTokens)
    {
        CheckPrompt(promptTokens, 0);
        ClearKvCache();
        var position = 0;
        var row = DecodePrompt(promptTokens, ref position);
        return Handle.GetLogitsIth(row).ToArray();
    }

    /// <summary>
    /// The logits of every prompt position (row p predicts the token after position p), all from one
    /// llama_decode from an empty KV cache: prompt length x vocabulary values, row-major.
    /// </summary>
    public float[] AllPromptLogits(int[] promptTokens)
    {
        CheckPrompt(promptTokens, 0);
        ClearKvCache();
        _batch.Clear();
        var rows = new int[promptTokens.Length];
        for (var p = 0; p < promptTokens.Length; p++) rows[p] = _batch.Add(promptTokens[p], p, LLamaSeqId.Zero, true);
        Decode();
        var all = new float[promptTokens.Length * VocabSize];
        for (var p = 0; p < rows.Length; p++) Handle.GetLogitsIth(rows[p]).CopyTo(all.AsSpan(p * VocabSize, VocabSize));
        return all;
    }

    /// <summary>Forgets every sequence's KV cells (metadata only; the buffers are reused).</summary>
    public void ClearKvCache() => Handle.MemoryClear(false);

    /// <summary>Runs llama_decode on a batch the caller filled; throws unless llama.cpp reports success.</summary>
    public void Decode(LLamaBatch batch)
    {
        var result = Context.Decode(batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode of {batch.TokenCount} tokens failed: {result} ({(int)result})");
    }

    /// <summary>Index of the largest value; the first (lowest id) wins a tie, NaN never wins.</summary>
    public static int Argmax(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("no logits", nameof(logits));
        var best = 0;
        var max = logits[0];
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > max || (float.IsNaN(max) && !float.IsNaN(logits[i])))
            {
                max = logits[i];
                best = i;
            }
        }
        return best;
    }

    private int DecodePrompt(int[] promptTokens, ref int position)
    {
        _batch.Clear();
        var tokens = promptTokens.Select(t => (LLamaToken)t).ToArray();
        var row = _batch.AddRange(tokens, position, LLamaSeqId.Zero, true);
        position += tokens.Length;
        Decode();
        return row;
    }

    private void Decode() => Decode(_batch);

    private void CheckPrompt(int[] promptTokens, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.Length == 0) throw new ArgumentException("the prompt has no tokens (add BOS)", nameof(promptTokens));
        foreach (var t in promptTokens)
        {
            if ((uint)t >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(promptTokens), t, $"token id outside the vocabulary of {VocabSize}");
        }
        if (promptTokens.Length > BatchSize)
            throw new ArgumentException($"{promptTokens.Length} prompt tokens exceed the batch of {BatchSize} (one llama_decode)", nameof(promptTokens));
        // The last generated token is never decoded, so prompt + maxTokens - 1 cells are used.
        var cells = promptTokens.Length + Math.Max(0, maxTokens - 1);
        var perSequence = ContextSize / (int)Handle.MaxSeq;
        if (cells > perSequence)
            throw new ArgumentException($"{promptTokens.Length} prompt + {maxTokens} generated tokens need {cells} KV cells, the context has {perSequence}", nameof(promptTokens));
    }

    public void Dispose()
    {
        Context.Dispose();
        Weights.Dispose();
    }
}

/// <summary>llama.cpp's own log lines (model loading, tensor listings) off; errors still reach stderr.</summary>
public static class NativeLogging
{
    private static readonly NativeLogConfig.LLamaLogCallback Callback = (level, message) =>
    {
        if (level == LLamaLogLevel.Error) Console.Error.Write($"llama.cpp: {message}");
    };

    private static int _done;

    public static void Quiet()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        if (!NativeLibraryConfig.LLama.LibraryHasLoaded) NativeLibraryConfig.All.WithLogCallback(Callback);
        else NativeLogConfig.llama_log_set(Callback);
    }
}
