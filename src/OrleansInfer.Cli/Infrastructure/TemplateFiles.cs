using System.CommandLine;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Templates;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>Reading `--chat-template FILE` and the template a model carries, with one-line errors that name the file.</summary>
internal static class TemplateFiles
{
    public static Option<string?> ChatTemplateOption(string description = "Jinja chat template file (replaces the model's tokenizer.chat_template)") =>
        new("--chat-template") { Description = description };

    /// <summary>The file's text, parsed once so a syntax error surfaces now, naming the file and position.</summary>
    public static string ReadValid(string path)
    {
        var source = Read(path);
        Parse(source, path);
        return source;
    }

    public static string Read(string path)
    {
        if (!File.Exists(path)) throw new CliException($"chat template file not found: {path}");
        return File.ReadAllText(path);
    }

    public static JinjaTemplate Parse(string source, string origin, TemplateOptions? options = null)
    {
        try
        {
            return JinjaTemplate.Parse(source, options);
        }
        catch (TemplateSyntaxException e)
        {
            throw new CliException($"{origin}: template syntax error at {e.Describe()}");
        }
    }

    /// <summary>The chat template for a model: <paramref name="file"/> when given, else the model's own.</summary>
    public static ChatTemplate ForModel(Vocabulary vocabulary, string modelPath, string? file)
    {
        var source = file is null ? null : Read(file);
        try
        {
            return ChatTemplate.For(vocabulary, Path.GetFileName(modelPath), source);
        }
        catch (TemplateSyntaxException e)
        {
            throw new CliException($"{file ?? $"{modelPath} (tokenizer.chat_template)"}: template syntax error at {e.Describe()}");
        }
    }
}
