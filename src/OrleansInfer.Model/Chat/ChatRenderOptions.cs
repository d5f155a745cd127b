using System.Text.Json.Nodes;

namespace OrleansInfer.Model.Chat;

/// <summary>What a chat render takes besides the messages.</summary>
public sealed record ChatRenderOptions
{
    public static ChatRenderOptions Default { get; } = new();

    /// <summary>End with the header of an assistant turn, so the model writes the reply.</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>Functions offered to the model (the template's <c>tools</c>); null or empty leaves <c>tools</c> undefined.</summary>
    public IReadOnlyList<ChatTool>? Tools { get; init; }

    /// <summary>More template variables (e.g. <c>date_string</c>, <c>enable_thinking</c>); they may not replace the ones a render sets.</summary>
    public JsonObject? Variables { get; init; }
}
