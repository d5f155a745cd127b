using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansInfer.Model.Chat;

/// <summary>
/// Builds the variable set Hugging Face's apply_chat_template passes to a template: <c>messages</c>, <c>tools</c>,
/// <c>add_generation_prompt</c>, <c>bos_token</c>, <c>eos_token</c> and extra variables.
/// </summary>
public static class ChatContext
{
    private static readonly string[] Reserved = ["messages", "tools", "add_generation_prompt", "bos_token", "eos_token"];

    public static JsonObject Build(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, string bosToken, string eosToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(options);
        var context = new JsonObject();
        var list = new JsonArray();
        foreach (var m in messages) list.Add(Message(m));
        context["messages"] = list;
        if (options.Tools is { Count: > 0 } tools)
        {
            var array = new JsonArray();
            foreach (var t in tools) array.Add(Tool(t));
            context["tools"] = array;
        }
        context["add_generation_prompt"] = options.AddGenerationPrompt;
        context["bos_token"] = bosToken;
        context["eos_token"] = eosToken;
        foreach (var (name, value) in options.Variables ?? [])
        {
            if (Reserved.Contains(name)) throw new ArgumentException($"template variable '{name}' is set by the chat request itself", nameof(options));
            context[name] = value?.DeepClone();
        }
        return context;
    }

    private static JsonObject Message(ChatMessage m)
    {
        ArgumentException.ThrowIfNullOrEmpty(m.Role, "role");
        var o = new JsonObject { ["role"] = m.Role, ["content"] = m.Content };
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            var array = new JsonArray();
            foreach (var c in calls)
            {
                array.Add(new JsonObject
                {
                    ["id"] = c.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = Arguments(c) },
                });
            }
            o["tool_calls"] = array;
        }
        if (m.ToolCallId is not null) o["tool_call_id"] = m.ToolCallId;
        if (m.Name is not null) o["name"] = m.Name;
        return o;
    }

    // Templates index and tojson the arguments as a mapping (vLLM parses OpenAI's JSON string the same way).
    private static JsonNode? Arguments(ChatToolCall call)
    {
        try
        {
            return JsonNode.Parse(call.Arguments) is JsonObject o ? o : throw new ArgumentException($"tool call {call.Id}: arguments must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"tool call {call.Id}: arguments are not valid JSON ({e.Message})", e);
        }
    }

    private static JsonObject Tool(ChatTool t)
    {
        ArgumentException.ThrowIfNullOrEmpty(t.Name, "tool name");
        var function = new JsonObject { ["name"] = t.Name };
        if (t.Description is not null) function["description"] = t.Description;
        if (t.Parameters is not null)
        {
            try
            {
                function["parameters"] = JsonNode.Parse(t.Parameters);
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"tool {t.Name}: parameters are not valid JSON ({e.Message})", e);
            }
        }
        return new JsonObject { ["type"] = "function", ["function"] = function };
    }
}
