using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.AI;

/// <summary>
/// <see cref="IChatClient"/> over an embedded <see cref="InferenceEngine"/>: messages and <see cref="ChatOptions"/> mapped
/// to a chat request, the reply streamed as updates, the last one carrying the finish reason and usage. Cancelling a
/// call aborts its request and frees its KV blocks. The engine stays owned by the caller.
/// </summary>
internal sealed class EngineChatClient(InferenceEngine engine) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("orleans-infer", providerUri: null, defaultModelId: engine.ModelId);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (turns, request) = Map(messages, options);
        var result = await engine.CompleteChatAsync(turns, request, cancellationToken).ConfigureAwait(false);
        var output = result.Output;
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, output.Text))
        {
            ResponseId = NewId(),
            ModelId = engine.ModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = ChatOptionsMapping.ToFinishReason(output.FinishReason),
            Usage = ChatOptionsMapping.ToUsage(result.Usage),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (turns, request) = Map(messages, options);
        var responseId = NewId();
        var created = DateTimeOffset.UtcNow;
        await foreach (var chunk in engine.ChatAsync(turns, request, cancellationToken).ConfigureAwait(false))
        {
            var update = new ChatResponseUpdate(ChatRole.Assistant, chunk.Text)
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = engine.ModelId,
                CreatedAt = created,
            };
            if (chunk.FinishReason is { } reason) update.FinishReason = ChatOptionsMapping.ToFinishReason(reason);
            if (chunk.Usage is UsageInfo usage) update.Contents.Add(new UsageContent(ChatOptionsMapping.ToUsage(usage)));
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (serviceType.IsInstanceOfType(engine)) return engine;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
    }

    private (List<Model.Chat.ChatMessage> Turns, ChatRequestOptions Request) Map(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (options?.ModelId is { } model && model != engine.ModelId)
            throw new ArgumentException($"this client serves model '{engine.ModelId}', not '{model}'", nameof(options));
        var turns = ChatMessageMapping.ToTurns(messages, options?.Instructions);
        return (turns, new ChatRequestOptions
        {
            Sampling = ChatOptionsMapping.ToSampling(options),
            MaxTokens = options?.MaxOutputTokens,
            Render = ChatOptionsMapping.ToRender(options),
        });
    }

    private static string NewId() => $"chatcmpl-{Guid.NewGuid():N}";
}
