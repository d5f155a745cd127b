namespace OrleansInfer.Model.Chat;

/// <summary>A chat request for a model that carries no chat template (GGUF tokenizer.chat_template) and was given none.</summary>
public sealed class ChatTemplateMissingException(string model)
    : InvalidOperationException($"{model} has no chat template (tokenizer.chat_template); give one with --chat-template FILE")
{
    public string Model { get; } = model;
}
