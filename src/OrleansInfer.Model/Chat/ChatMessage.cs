namespace OrleansInfer.Model.Chat;

/// <summary>
/// One turn of a conversation as chat templates see it: <c>role</c> (system, user, assistant, tool, or any role a
/// template knows), <c>content</c>, and for tool use <c>tool_calls</c> (assistant), <c>tool_call_id</c> and <c>name</c> (tool).
/// </summary>
public sealed record ChatMessage(string Role, string? Content)
{
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    public string? ToolCallId { get; init; }

    public string? Name { get; init; }

    public static ChatMessage System(string content) => new("system", content);

    public static ChatMessage User(string content) => new("user", content);

    public static ChatMessage Assistant(string content) => new("assistant", content);

    public static ChatMessage Tool(string callId, string content, string? name = null) => new("tool", content) { ToolCallId = callId, Name = name };
}

/// <summary>A function call an assistant turn made. <paramref name="Arguments"/> is JSON text (an object, as OpenAI's API sends it).</summary>
public sealed record ChatToolCall(string Id, string Name, string Arguments);

/// <summary>A function the model may call: JSON Schema <paramref name="Parameters"/> (JSON text, an object) describe its arguments.</summary>
public sealed record ChatTool(string Name, string? Description = null, string? Parameters = null);
