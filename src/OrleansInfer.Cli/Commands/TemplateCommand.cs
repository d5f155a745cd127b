using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `template render`: the exact text a chat template renders for a variable set, nothing added. A template that
/// raises prints its message alone on stderr and exits 2; other template errors give their position.
/// </summary>
internal static class TemplateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("template", "Chat templates (Jinja)");
        command.Subcommands.Add(Render(output, error));
        return command;
    }

    private static Command Render(TextWriter output, TextWriter error)
    {
        var template = new Option<string?>("--template") { Description = "Jinja template file" };
        var model = new Option<string?>("--model", "-m") { Description = "GGUF model (or vocabulary) whose tokenizer.chat_template to render" };
        var tokenizer = CommonOptions.Tokenizer();
        var context = new Option<string?>("--context") { Description = "The whole variable set as a JSON object (messages, tools, add_generation_prompt, bos_token, eos_token, ...)" };
        var contextFile = new Option<string?>("--context-file") { Description = "A file holding the JSON object of --context" };
        var command = new Command("render", "Print what a template renders for a context (exactly: no newline added)");
        foreach (var o in new Option[] { template, model, tokenizer, context, contextFile }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var variables = ReadContext(r.GetValue(context), r.GetValue(contextFile));
            var (source, origin) = Source(r.GetValue(template), r.GetValue(model), r.GetValue(tokenizer), variables);
            var parsed = TemplateFiles.Parse(source, origin);
            string text;
            try
            {
                text = parsed.Render(variables);
            }
            catch (TemplateRaisedException e)
            {
                error.WriteLine(e.Message);
                return ExitCodes.Usage;
            }
            catch (TemplateException e)
            {
                throw new CliException($"{origin}: template error at {e.Describe()}");
            }
            output.Write(text);
            output.Flush();
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The template text; from a model, its BOS and EOS texts fill bos_token and eos_token when the context lacks them.</summary>
    private static (string Source, string Origin) Source(string? templateFile, string? modelPath, string? tokenizer, JsonObject variables)
    {
        if ((templateFile is null) == (modelPath is null)) throw new CliException("give exactly one of --template or --model");
        if (templateFile is not null) return (TemplateFiles.Read(templateFile), templateFile);
        using var file = LoadedModel.OpenFile(modelPath!, tokenizer, requireWeights: false);
        var chat = TemplateFiles.ForModel(file.Vocabulary, modelPath!, null);
        if (!variables.ContainsKey("bos_token")) variables["bos_token"] = chat.BosToken;
        if (!variables.ContainsKey("eos_token")) variables["eos_token"] = chat.EosToken;
        return (chat.Source, $"{modelPath} (tokenizer.chat_template)");
    }

    private static JsonObject ReadContext(string? json, string? file)
    {
        if ((json is null) == (file is null)) throw new CliException("give exactly one of --context or --context-file");
        if (file is not null)
        {
            if (!File.Exists(file)) throw new CliException($"context file not found: {file}");
            json = File.ReadAllText(file);
        }
        try
        {
            return JsonNode.Parse(json!) as JsonObject ?? throw new CliException("the context must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new CliException($"the context is not valid JSON: {e.Message}");
        }
    }
}
