using System.Text.Json;
using Microsoft.Extensions.AI;
using ChatMessage = OrleansInfer.Model.Chat.ChatMessage;

namespace OrleansInfer.AI;

/// <summary>Microsoft.Extensions.AI messages to the turns a chat template renders.</summary>
internal static class ChatMessageMapping
{
    /// <summary>
    /// Text contents join into the turn's content; function calls become tool_calls; each function result becomes its own
    /// tool turn (as OpenAI's API carries them). Contents a text model cannot read are refused, not dropped.
    /// </summary>
    public static List<ChatMessage> ToTurns(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, string? instructions)
    {
        var turns = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(instructions)) turns.Add(ChatMessage.System(instructions));
        foreach (var m in messages)
        {
            var text = new System.Text.StringBuilder();
            var calls = new List<Model.Chat.ChatToolCall>();
            var results = new List<ChatMessage>();
            var hasText = false;
            foreach (var content in m.Contents)
            {
                switch (content)
                {
                    case TextContent t:
                        text.Append(t.Text);
                        hasText = true;
                        break;
                    case TextReasoningContent:
                    case UsageContent:
                        break;
                    case FunctionCallContent call:
                        calls.Add(new Model.Chat.ChatToolCall(call.CallId, call.Name, JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>())));
                        break;
                    case FunctionResultContent result:
                        results.Add(ChatMessage.Tool(result.CallId, ResultText(result.Result)));
                        break;
                    default:
                        throw new NotSupportedException($"{content.GetType().Name} content is not supported: this model reads text only");
                }
            }
            if (results.Count > 0 && (hasText || calls.Count > 0))
                throw new ArgumentException("a message holds function results together with text or calls; send results in their own message");
            if (results.Count > 0)
            {
                turns.AddRange(results);
                continue;
            }
            turns.Add(new ChatMessage(m.Role.Value, hasText || calls.Count == 0 ? text.ToString() : null)
            {
                ToolCalls = calls.Count > 0 ? calls : null,
                Name = m.AuthorName,
            });
        }
        return turns;
    }

    private static string ResultText(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement e when e.ValueKind == JsonValueKind.String => e.GetString()!,
        _ => JsonSerializer.Serialize(result),
    };
}
