using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Gateway.Inference;

/// <summary>
/// A model as the gateway serves it: its id (the router key), tokenizer, context length and chat template, fetched
/// from its workers once and kept.
/// </summary>
public sealed record ServedModel(string Id, Tokenizer Tokenizer, int ContextLength, ChatTemplate? ChatTemplate, string? ChatTemplateProblem, DateTimeOffset Created)
{
    /// <summary>Every id must name a token of the vocabulary; otherwise a 400-class error naming <paramref name="param"/>.</summary>
    public void CheckTokenIds(IEnumerable<int> ids, string param)
    {
        var size = Tokenizer.VocabularySize;
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)size) throw GatewayException.Invalid(param, $"token id {id} is outside the vocabulary of {size} tokens");
        }
    }

    /// <summary>The chat template, or a 400-class error saying why chat is not available for this model.</summary>
    public ChatTemplate RequireChatTemplate() => ChatTemplate ?? throw new GatewayException(GatewayErrorKind.InvalidArgument,
        ChatTemplateProblem ?? $"model '{Id}' has no chat template (tokenizer.chat_template); serve it with --chat-template FILE", "messages");
}
