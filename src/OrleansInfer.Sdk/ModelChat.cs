using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Templates;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer;

/// <summary>
/// The engine's chat template: a given file must parse at load; the model's own template is parsed at load too, but a
/// broken one only fails chat requests (plain generation still works), with the parse error as the reason.
/// </summary>
internal sealed class ModelChat
{
    private readonly string _modelId;
    private readonly TemplateSyntaxException? _broken;

    private ModelChat(string modelId, ChatTemplate? template, TemplateSyntaxException? broken)
    {
        _modelId = modelId;
        Template = template;
        _broken = broken;
    }

    public ChatTemplate? Template { get; }

    public static ModelChat Load(Vocabulary vocabulary, string modelId, string? templatePath)
    {
        if (templatePath is not null)
        {
            if (!File.Exists(templatePath)) throw new FileNotFoundException($"chat template file not found: {templatePath}", templatePath);
            return new ModelChat(modelId, ChatTemplate.For(vocabulary, modelId, File.ReadAllText(templatePath)), null);
        }
        if (vocabulary.ChatTemplate is null) return new ModelChat(modelId, null, null);
        try
        {
            return new ModelChat(modelId, ChatTemplate.For(vocabulary, modelId), null);
        }
        catch (TemplateSyntaxException e)
        {
            return new ModelChat(modelId, null, e);
        }
    }

    /// <summary>The template, or why there is none.</summary>
    public ChatTemplate Require()
    {
        if (Template is not null) return Template;
        if (_broken is not null) throw new TemplateSyntaxException($"the model's chat template does not parse: {_broken.Message}", _broken.Line, _broken.Column);
        throw new ChatTemplateMissingException(_modelId);
    }
}
