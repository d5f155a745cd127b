using System.Text.Json;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Cli.Generation;

/// <summary>`generate --json` lines: one object per prompt, a result or, for a prompt that failed, its error.</summary>
internal static class ResultJson
{
    public static string Result(string prompt, GenerationResult result) => Json.Object(w =>
    {
        var first = result.Output;
        w.WriteString("prompt", prompt);
        w.WriteInts("prompt_token_ids", result.PromptTokenIds);
        w.WriteInts("token_ids", first.TokenIds);
        w.WriteString("text", first.Text);
        w.WriteString("finish_reason", first.FinishReason.ToWireName());
        if (first.Logprobs is not null) WriteLogprobs(w, first.Logprobs);
        if (result.Outputs.Count > 1)
        {
            w.WriteStartArray("outputs");
            foreach (var o in result.Outputs)
            {
                w.WriteStartObject();
                w.WriteNumber("index", o.Index);
                w.WriteInts("token_ids", o.TokenIds);
                w.WriteString("text", o.Text);
                w.WriteString("finish_reason", o.FinishReason.ToWireName());
                w.WriteNumber("cumulative_logprob", Math.Round(o.CumulativeLogprob, 6));
                if (o.Logprobs is not null) WriteLogprobs(w, o.Logprobs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", result.Usage.PromptTokens);
        w.WriteNumber("completion_tokens", result.Usage.CompletionTokens);
        w.WriteNumber("cached_prompt_tokens", result.Usage.CachedPromptTokens);
        w.WriteEndObject();
    });

    public static string Failure(int index, string prompt, PromptFailure failure) => Json.Object(w =>
    {
        w.WriteNumber("index", index);
        w.WriteString("prompt", prompt);
        w.WriteStartObject("error");
        w.WriteString("type", failure.Type);
        w.WriteString("message", failure.Message);
        w.WriteEndObject();
    });

    private static void WriteLogprobs(Utf8JsonWriter w, IReadOnlyList<TokenLogprobs> logprobs)
    {
        w.WriteStartArray("logprobs");
        foreach (var l in logprobs)
        {
            w.WriteStartObject();
            w.WriteNumber("token_id", l.TokenId);
            w.WriteNumber("logprob", Math.Round(l.Logprob, 6));
            w.WriteStartArray("top");
            foreach (var t in l.Top)
            {
                w.WriteStartObject();
                w.WriteNumber("token_id", t.TokenId);
                w.WriteNumber("logprob", Math.Round(t.Logprob, 6));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
