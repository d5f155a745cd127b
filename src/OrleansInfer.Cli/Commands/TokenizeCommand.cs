using System.CommandLine;
using OrleansInfer.Cli.Infrastructure;

namespace OrleansInfer.Cli.Commands;

/// <summary>`tokenize`: prints the token ids of a text (a vocabulary-only GGUF is enough).</summary>
internal static class TokenizeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var text = new Option<string?>("--text") { Description = "Text to tokenize" };
        var file = new Option<string?>("--file") { Description = "File whose UTF-8 contents to tokenize" };
        var noBos = new Option<bool>("--no-bos") { Description = "Do not add the beginning-of-sequence token" };
        var json = CommonOptions.Json();
        var command = new Command("tokenize", "Print the token ids of a text");
        foreach (var o in new Option[] { model, tokenizer, text, file, noBos, json }) command.Options.Add(o);

        command.SetAction(r =>
        {
            var (t, f) = (r.GetValue(text), r.GetValue(file));
            if ((t is null) == (f is null)) throw new CliException("give exactly one of --text or --file");
            if (f is not null && !File.Exists(f)) throw new CliException($"file not found: {f}");
            var input = t ?? File.ReadAllText(f!);
            using var loaded = LoadedModel.Load(r.GetValue(model)!, r.GetValue(tokenizer), runnerOptions: null, error);
            var ids = loaded.Tokenizer.Encode(input, addSpecial: !r.GetValue(noBos), parseSpecial: true);
            if (r.GetValue(json))
            {
                output.WriteLine(Json.Object(w =>
                {
                    w.WriteInts("token_ids", ids);
                    w.WriteStartArray("pieces");
                    foreach (var id in ids) w.WriteStringValue(loaded.File.Vocabulary.Tokens[id]);
                    w.WriteEndArray();
                }));
            }
            else
            {
                output.WriteLine(string.Join(' ', ids));
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
