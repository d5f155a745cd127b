using OrleansInfer.Model.Templates;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Chat;

/// <summary>
/// A model's chat template bound to its special tokens: messages in, prompt text and token ids out.
/// Immutable; render and encode from any thread.
/// </summary>
public sealed class ChatTemplate
{
    private readonly JinjaTemplate _template;

    /// <summary>Parses <paramref name="source"/> (a <see cref="TemplateSyntaxException"/> when it is not valid Jinja).</summary>
    public ChatTemplate(string source, string bosToken, string eosToken, TemplateOptions? options = null)
    {
        _template = JinjaTemplate.Parse(source, options);
        BosToken = bosToken;
        EosToken = eosToken;
    }

    public string Source => _template.Source;

    public string BosToken { get; }

    public string EosToken { get; }

    /// <summary>
    /// The template of <paramref name="vocabulary"/> (GGUF tokenizer.chat_template), or <paramref name="source"/> when given;
    /// a <see cref="ChatTemplateMissingException"/> when there is neither.
    /// </summary>
    public static ChatTemplate For(Vocabulary vocabulary, string modelName, string? source = null, TemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        source ??= vocabulary.ChatTemplate ?? throw new ChatTemplateMissingException(modelName);
        return new ChatTemplate(source, TokenText(vocabulary, vocabulary.BosId), TokenText(vocabulary, vocabulary.EosId), options);
    }

    /// <summary>The prompt text (exactly what the template renders).</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions? options = null) =>
        _template.Render(ChatContext.Build(messages, options ?? ChatRenderOptions.Default, BosToken, EosToken));

    /// <summary>
    /// Renders and tokenizes: special tokens written by the template become those tokens, and BOS is added where the
    /// vocabulary wants one unless the text already starts with it.
    /// </summary>
    public ChatPrompt Encode(Tokenizer tokenizer, IReadOnlyList<ChatMessage> messages, ChatRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var text = Render(messages, options);
        return new ChatPrompt(text, EncodeRendered(tokenizer, text));
    }

    /// <summary>Token ids of rendered chat text; see <see cref="Encode"/>.</summary>
    public static int[] EncodeRendered(Tokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
        var bos = tokenizer.BosId;
        if (!tokenizer.Vocabulary.AddBos || bos < 0 || (ids.Length > 0 && ids[0] == bos)) return ids;
        var withBos = new int[ids.Length + 1];
        withBos[0] = bos;
        ids.CopyTo(withBos, 1);
        return withBos;
    }

    private static string TokenText(Vocabulary vocabulary, int id) => id >= 0 && id < vocabulary.Count ? vocabulary.Tokens[id] : "";
}

/// <summary>A rendered chat prompt and its token ids.</summary>
public sealed record ChatPrompt(string Text, int[] TokenIds);
