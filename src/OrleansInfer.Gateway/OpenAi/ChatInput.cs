using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// The conversation of a chat request as the template sees it: messages (content as a string or text parts, tool
/// calls, tool results), tools (unless tool_choice is "none") and template options. <see cref="Encode"/> renders it.
/// </summary>
internal sealed record ChatInput(IReadOnlyList<ChatMessage> Messages, IReadOnlyList<ChatTool>? Tools, bool AddGenerationPrompt, JsonObject? Variables)
{
    public static ChatInput Parse(JsonElement body)
    {
        var messages = OpenAiJson.Value(body, "messages") ?? throw GatewayException.Invalid("messages", "'messages' is required");
        if (messages.ValueKind != JsonValueKind.Array) throw OpenAiJson.WrongType("messages", "a list of messages");
        var parsed = messages.EnumerateArray().Select(ParseMessage).ToList();
        if (parsed.Count == 0) throw GatewayException.Invalid("messages", "'messages' must not be empty");

        var toolChoice = OpenAiJson.Value(body, "tool_choice");
        // Tool calls are not parsed from the output, so only the choices that do not force a call can be honoured.
        if (toolChoice is { } choice && !(choice.ValueKind == JsonValueKind.String && choice.GetString() is "auto" or "none"))
            throw new GatewayException(GatewayErrorKind.NotSupported,
                $"tool_choice {(choice.ValueKind == JsonValueKind.String ? $"\"{choice.GetString()}\"" : "naming a function")} is not supported; use \"auto\" or \"none\"", "tool_choice");
        var tools = ParseTools(body);
        if (toolChoice?.GetString() == "none") tools = null;

        var kwargs = OpenAiJson.Object(body, "chat_template_kwargs");
        return new ChatInput(parsed, tools, OpenAiJson.Bool(body, "add_generation_prompt") ?? true,
            kwargs is { } k ? JsonNode.Parse(k.GetRawText())!.AsObject() : null);
    }

    /// <summary>Renders and tokenizes with the model's template; a template's refusal is the caller's 400.</summary>
    public ChatPrompt Encode(ServedModel model)
    {
        var template = model.RequireChatTemplate();
        try
        {
            return template.Encode(model.Tokenizer, Messages, new ChatRenderOptions { AddGenerationPrompt = AddGenerationPrompt, Tools = Tools, Variables = Variables });
        }
        catch (TemplateRaisedException e)
        {
            throw GatewayException.Invalid("messages", e.Message);
        }
        catch (TemplateException e)
        {
            throw GatewayException.Invalid("messages", $"the chat template failed: {e.Describe()}");
        }
        catch (ArgumentException e)
        {
            throw GatewayException.Invalid("messages", e.Message);
        }
    }

    private static ChatMessage ParseMessage(JsonElement m, int index)
    {
        var at = $"messages[{index}]";
        if (m.ValueKind != JsonValueKind.Object) throw OpenAiJson.WrongType(at, "an object");
        var role = OpenAiJson.String(m, "role", $"{at}.role") ?? throw GatewayException.Invalid($"{at}.role", $"'{at}.role' is required");
        return new ChatMessage(role, Content(m, at))
        {
            Name = OpenAiJson.String(m, "name", $"{at}.name"),
            ToolCallId = OpenAiJson.String(m, "tool_call_id", $"{at}.tool_call_id"),
            ToolCalls = ToolCalls(m, at),
        };
    }

    /// <summary>A string, or text parts joined with newlines (vLLM); other part types need a multimodal model.</summary>
    private static string? Content(JsonElement m, string at)
    {
        var content = OpenAiJson.Value(m, "content");
        if (content is null) return null;
        var c = content.Value;
        if (c.ValueKind == JsonValueKind.String) return c.GetString();
        if (c.ValueKind != JsonValueKind.Array) throw OpenAiJson.WrongType($"{at}.content", "a string or a list of content parts");
        var texts = new List<string>();
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object) throw OpenAiJson.WrongType($"{at}.content", "a string or a list of content parts");
            var type = OpenAiJson.String(part, "type", $"{at}.content.type");
            if (type != "text") throw new GatewayException(GatewayErrorKind.NotSupported, $"content parts of type '{type}' are not supported; only 'text'", $"{at}.content");
            texts.Add(OpenAiJson.String(part, "text", $"{at}.content.text") ?? throw GatewayException.Invalid($"{at}.content", "a text part needs 'text'"));
        }
        return string.Join('\n', texts);
    }

    private static List<ChatToolCall>? ToolCalls(JsonElement m, string at)
    {
        if (OpenAiJson.Value(m, "tool_calls") is not { } calls) return null;
        var param = $"{at}.tool_calls";
        if (calls.ValueKind != JsonValueKind.Array) throw OpenAiJson.WrongType(param, "a list of tool calls");
        return calls.EnumerateArray().Select(call =>
        {
            if (call.ValueKind != JsonValueKind.Object) throw OpenAiJson.WrongType(param, "a list of tool calls");
            var function = OpenAiJson.Object(call, "function", param) ?? throw GatewayException.Invalid(param, "a tool call needs 'function'");
            var arguments = OpenAiJson.Value(function, "arguments");
            // OpenAI sends arguments as JSON text; some clients send the object itself.
            var text = arguments is { ValueKind: JsonValueKind.String } s ? s.GetString()! : arguments?.GetRawText() ?? "{}";
            return new ChatToolCall(OpenAiJson.String(call, "id", param) ?? "", OpenAiJson.String(function, "name", param) ?? throw GatewayException.Invalid(param, "a function call needs 'name'"), text);
        }).ToList();
    }

    private static List<ChatTool>? ParseTools(JsonElement body)
    {
        if (OpenAiJson.Value(body, "tools") is not { } tools) return null;
        if (tools.ValueKind != JsonValueKind.Array) throw OpenAiJson.WrongType("tools", "a list of tools");
        return tools.EnumerateArray().Select(t =>
        {
            if (t.ValueKind != JsonValueKind.Object) throw OpenAiJson.WrongType("tools", "a list of tools");
            if (OpenAiJson.String(t, "type", "tools") is { } type && type != "function")
                throw new GatewayException(GatewayErrorKind.NotSupported, $"tools of type '{type}' are not supported; only 'function'", "tools");
            var f = OpenAiJson.Object(t, "function", "tools") ?? throw GatewayException.Invalid("tools", "a tool needs 'function'");
            return new ChatTool(OpenAiJson.String(f, "name", "tools") ?? throw GatewayException.Invalid("tools", "a function needs 'name'"),
                OpenAiJson.String(f, "description", "tools"), OpenAiJson.Object(f, "parameters", "tools")?.GetRawText());
        }).ToList();
    }
}
