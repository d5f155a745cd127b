using System.Text;
using System.Text.Json;
using OrleansInfer.Abstractions;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// What one choice has produced so far (text, token count, logprobs, finish reason), and the JSON of its logprobs in
/// each API's shape: completions' parallel lists (tokens, token_logprobs, top_logprobs, text_offset) or chat's content list.
/// </summary>
internal sealed class ChoiceState(int index)
{
    private readonly StringBuilder _text = new();
    private readonly List<TokenLogprobReport> _logprobs = [];

    public int Index { get; } = index;

    public string Text => _text.ToString();

    /// <summary>Characters written so far: where the next token starts in completions' text_offset.</summary>
    public int TextLength => _text.Length;

    public int Tokens { get; private set; }

    public string? FinishReason { get; private set; }

    public IReadOnlyList<TokenLogprobReport> Logprobs => _logprobs;

    public void Add(string text, TokenChunk chunk)
    {
        _text.Append(text);
        Tokens += chunk.TokenIds.Length;
        if (chunk.Logprobs is { } l) _logprobs.AddRange(l);
        FinishReason ??= chunk.FinishReason;
    }

    /// <summary>The bytes a token contributes to text, as text (a piece of a multi-byte character shows as U+FFFD).</summary>
    public static string TokenText(Tokenizer tokenizer, int id) =>
        id >= 0 && id < tokenizer.VocabularySize ? Encoding.UTF8.GetString(tokenizer.TokenBytes(id)) : "";

    /// <summary>Completions' logprobs object; <paramref name="firstOffset"/> is where the first token's text starts.</summary>
    public static void WriteCompletionLogprobs(Utf8JsonWriter w, Tokenizer tokenizer, IReadOnlyList<TokenLogprobReport> reports, int firstOffset)
    {
        w.WriteStartObject();
        w.WriteStartArray("tokens");
        foreach (var r in reports) w.WriteStringValue(TokenText(tokenizer, r.TokenId));
        w.WriteEndArray();
        w.WriteStartArray("token_logprobs");
        foreach (var r in reports) w.WriteNumberValue(OpenAiJson.Finite(r.Logprob));
        w.WriteEndArray();
        w.WriteStartArray("top_logprobs");
        foreach (var r in reports)
        {
            // A dictionary by token text (the legacy API's shape); two tokens with the same text keep the likelier.
            w.WriteStartObject();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var k = 0; k < r.TopTokenIds.Length; k++)
            {
                var text = TokenText(tokenizer, r.TopTokenIds[k]);
                if (seen.Add(text)) w.WriteNumber(text, OpenAiJson.Finite(r.TopLogprobs[k]));
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("text_offset");
        var offset = firstOffset;
        foreach (var r in reports)
        {
            w.WriteNumberValue(offset);
            offset += TokenText(tokenizer, r.TokenId).Length;
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Chat's logprobs object: {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}.</summary>
    public static void WriteChatLogprobs(Utf8JsonWriter w, Tokenizer tokenizer, IReadOnlyList<TokenLogprobReport> reports)
    {
        w.WriteStartObject();
        w.WriteStartArray("content");
        foreach (var r in reports)
        {
            w.WriteStartObject();
            WriteChatToken(w, tokenizer, r.TokenId, r.Logprob);
            w.WriteStartArray("top_logprobs");
            for (var k = 0; k < r.TopTokenIds.Length; k++)
            {
                w.WriteStartObject();
                WriteChatToken(w, tokenizer, r.TopTokenIds[k], r.TopLogprobs[k]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteChatToken(Utf8JsonWriter w, Tokenizer tokenizer, int id, float logprob)
    {
        w.WriteString("token", TokenText(tokenizer, id));
        w.WriteNumber("logprob", OpenAiJson.Finite(logprob));
        w.WriteStartArray("bytes");
        if (id >= 0 && id < tokenizer.VocabularySize)
        {
            foreach (var b in tokenizer.TokenBytes(id)) w.WriteNumberValue(b);
        }
        w.WriteEndArray();
    }
}

/// <summary>Token counts of a whole call, summed over its prompts (OpenAI's usage object).</summary>
internal sealed class UsageTotals
{
    public int PromptTokens { get; private set; }
    public int CompletionTokens { get; private set; }
    public int CachedTokens { get; private set; }

    public void Add(UsageReport usage)
    {
        PromptTokens += usage.PromptTokens;
        CompletionTokens += usage.CompletionTokens;
        CachedTokens += usage.CachedPromptTokens;
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", PromptTokens);
        w.WriteNumber("completion_tokens", CompletionTokens);
        w.WriteNumber("total_tokens", PromptTokens + CompletionTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", CachedTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
