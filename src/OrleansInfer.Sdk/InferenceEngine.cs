using System.Runtime.CompilerServices;
using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;
using IChatClient = Microsoft.Extensions.AI.IChatClient;
using OrleansInfer.AI;
using OrleansInfer.Model;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer;

/// <summary>
/// The embedded entry point:
/// <code>
/// await using var engine = await InferenceEngine.LoadAsync("model.gguf");
/// await foreach (var chunk in engine.GenerateAsync("Once upon a time", new SamplingParams { MaxTokens = 64 }))
///     Console.Write(chunk.Text);
/// </code>
/// Any number of concurrent calls share one continuous batch on the chosen backend (CPU by default, or ILGPU).
/// </summary>
public sealed class InferenceEngine : IAsyncDisposable
{
    private readonly ModelFile _model;
    private readonly IModelRunner _runner;
    private readonly ModelChat _chat;

    private InferenceEngine(ModelFile model, IModelRunner runner, LlmEngine engine, ModelChat chat, string modelId)
    {
        _model = model;
        _runner = runner;
        _chat = chat;
        Engine = engine;
        ModelId = modelId;
    }

    /// <summary>The model's name: <see cref="InferenceEngineOptions.ModelId"/>, or the file name without its extension.</summary>
    public string ModelId { get; }

    /// <summary>The chat template in use (the model's tokenizer.chat_template or the file given); null when there is none.</summary>
    public ChatTemplate? ChatTemplate => _chat.Template;

    /// <summary>The underlying engine (token-level API, statistics).</summary>
    public LlmEngine Engine { get; }

    public Tokenizer Tokenizer => Engine.Tokenizer;

    public LlamaConfig Config => Engine.Config;

    public KvCacheStats KvCache => Engine.KvCache;

    /// <summary>What runs the model, e.g. "CPU (8 threads, AVX-512)" or "NVIDIA H100 80GB HBM3 (CUDA, ...)".</summary>
    public string DeviceName => _runner.DeviceName;

    /// <summary>Opens the model (GGUF or llama2.c), builds the backend and starts the engine loop.</summary>
    public static Task<InferenceEngine> LoadAsync(string modelPath, InferenceEngineOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new InferenceEngineOptions();
        return Task.Run(() =>
        {
            var model = ModelFile.Open(modelPath, options.TokenizerPath);
            try
            {
                var modelId = options.ModelId ?? Path.GetFileNameWithoutExtension(modelPath);
                var chat = ModelChat.Load(model.Vocabulary, modelId, options.ChatTemplatePath);
                cancellationToken.ThrowIfCancellationRequested();
                IModelRunner runner = options.Backend == InferenceBackend.Ilgpu
                    ? new IlgpuModelRunner(model, options.ToIlgpuOptions())
                    : new CpuModelRunner(model, options.ToRunnerOptions());
                try
                {
                    var engine = new LlmEngine(runner, Tokenizer.Create(model.Vocabulary), options.ToEngineOptions());
                    return new InferenceEngine(model, runner, engine, chat, modelId);
                }
                catch
                {
                    runner.Dispose();
                    throw;
                }
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }, cancellationToken);
    }

    /// <summary>Tokenizes like llama.cpp's main: BOS per the vocabulary, special tokens written in the text recognized.</summary>
    public int[] Tokenize(string text) => Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);

    /// <summary>Streams the continuation of <paramref name="prompt"/>; chunk.Text is the new text, chunk.Index the output (n &gt; 1).</summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(string prompt, SamplingParams? sampling = null, CancellationToken cancellationToken = default) =>
        Engine.StreamAsync(new GenerationRequest(Tokenize(prompt), sampling ?? new SamplingParams()), cancellationToken);

    /// <summary>Generates the continuation of <paramref name="prompt"/> to the end.</summary>
    public Task<GenerationResult> CompleteAsync(string prompt, SamplingParams? sampling = null, CancellationToken cancellationToken = default) =>
        Engine.GenerateAsync(new GenerationRequest(Tokenize(prompt), sampling ?? new SamplingParams()), cancellationToken);

    /// <summary>Runs every prompt in one continuous batch; results come back in prompt order.</summary>
    public async Task<IReadOnlyList<GenerationResult>> GenerateBatchAsync(IEnumerable<string> prompts, SamplingParams? sampling = null, CancellationToken cancellationToken = default)
    {
        var streams = prompts.Select(p => Engine.Submit(new GenerationRequest(Tokenize(p), sampling ?? new SamplingParams()))).ToList();
        try
        {
            return await Task.WhenAll(streams.Select(s => s.CollectAsync(cancellationToken))).ConfigureAwait(false);
        }
        catch
        {
            foreach (var s in streams) s.Cancel();
            throw;
        }
    }

    /// <summary>
    /// Streams the reply to a conversation: the messages rendered through the chat template, special tokens recognised,
    /// BOS not doubled. A <see cref="ChatTemplateMissingException"/> when the model has no template and none was given.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> ChatAsync(IReadOnlyList<ChatMessage> messages, ChatRequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Engine.StreamAsync(ChatRequest(messages, options ?? ChatRequestOptions.Default), cancellationToken);

    /// <summary>The whole reply to a conversation (see <see cref="ChatAsync"/>).</summary>
    public Task<GenerationResult> CompleteChatAsync(IReadOnlyList<ChatMessage> messages, ChatRequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Engine.GenerateAsync(ChatRequest(messages, options ?? ChatRequestOptions.Default), cancellationToken);

    /// <summary>This engine as a Microsoft.Extensions.AI chat client (the engine stays owned by the caller).</summary>
    public IChatClient AsChatClient() => new EngineChatClient(this);

    private GenerationRequest ChatRequest(IReadOnlyList<ChatMessage> messages, ChatRequestOptions options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var prompt = _chat.Require().Encode(Tokenizer, messages, options.Render);
        // Left open, the reply may run to the end of the context or of the KV pool, whichever comes first.
        var room = Math.Min(Config.ContextLength, KvCache.TotalBlocks * KvCache.BlockSize) - prompt.TokenIds.Length;
        var sampling = options.Sampling with { MaxTokens = options.MaxTokens ?? Math.Max(1, room) };
        return new GenerationRequest(prompt.TokenIds, sampling);
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync().ConfigureAwait(false);
        _runner.Dispose();
        _model.Dispose();
    }
}
