using System.CommandLine;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Model;
using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Cli.Commands;

/// <summary>`model inspect | convert | synth`.</summary>
internal static class ModelCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("model", "Inspect, convert and synthesize model files");
        command.Subcommands.Add(Inspect(output));
        command.Subcommands.Add(Convert(output, error));
        command.Subcommands.Add(Synth(output, error));
        command.Subcommands.Add(ModelQuantizeCommand.Create(output, error));
        return command;
    }

    private static Command Inspect(TextWriter output) => ModelInspectCommand.Create(output);

    private static Command Convert(TextWriter output, TextWriter error)
    {
        var input = new Argument<string>("in") { Description = "GGUF file or llama2.c .bin checkpoint" };
        var outPath = new Argument<string>("out") { Description = "GGUF file to write" };
        var tokenizer = CommonOptions.Tokenizer();
        var type = TypeOption(required: false);
        var chatTemplate = TemplateFiles.ChatTemplateOption("Jinja chat template file to store as tokenizer.chat_template (replacing the input's)");
        var command = new Command("convert", "Write a model as GGUF with matrices of the given type");
        command.Arguments.Add(input);
        command.Arguments.Add(outPath);
        command.Options.Add(tokenizer);
        command.Options.Add(type);
        command.Options.Add(chatTemplate);
        command.SetAction(r =>
        {
            var ggmlType = ParseType(r.GetValue(type) ?? "f32");
            var template = r.GetValue(chatTemplate) is { } templatePath ? TemplateFiles.ReadValid(templatePath) : null;
            using var file = LoadedModel.OpenFile(r.GetValue(input)!, r.GetValue(tokenizer));
            var destination = r.GetValue(outPath)!;
            if (Path.GetFullPath(destination) == Path.GetFullPath(file.Path)) throw new CliException("the output would overwrite the input");
            using (var progress = new ConsoleProgress(error, $"converting to {GgmlTypeInfo.Name(ggmlType)}"))
            {
                LlamaGguf.Convert(file, destination, ggmlType, progress, template);
            }
            output.WriteLine($"wrote {destination} ({new FileInfo(destination).Length:N0} bytes, {GgmlTypeInfo.Name(ggmlType)})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Synth(TextWriter output, TextWriter error)
    {
        var names = SyntheticPreset.All.Concat(FamilyPresets.All).Select(p => p.Name).Distinct();
        var preset = new Option<string>("--preset") { Description = $"Model shape: {string.Join(", ", names)}", Required = true };
        var arch = new Option<string?>("--arch") { Description = $"Architecture: {string.Join(", ", ModelArchitectures.All)} (default: llama, or the one architecture that has the preset)" };
        var type = TypeOption(required: true);
        var outPath = new Option<string>("--out", "-o") { Description = "GGUF file to write", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 1 };
        var tokenizer = CommonOptions.Tokenizer();
        var vocabFrom = new Option<string?>("--vocab-from") { Description = "Vocabulary GGUF the model takes its tokens from (e.g. shared/tokenizers/ggml-vocab-llama-spm.gguf)" };
        var chatTemplate = TemplateFiles.ChatTemplateOption("Jinja chat template file to store as tokenizer.chat_template");
        var command = new Command("synth", "Write a random-weight model at a real model's shape (or a tiny one with every feature of its architecture), for benchmarks and tests");
        foreach (var o in new Option[] { preset, arch, type, outPath, seed, tokenizer, vocabFrom, chatTemplate }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var p = ResolvePreset(r.GetValue(preset)!, r.GetValue(arch));
            var ggmlType = ParseType(r.GetValue(type)!);
            if (r.GetValue(tokenizer) is not null && r.GetValue(vocabFrom) is not null) throw new CliException("pass --tokenizer or --vocab-from, not both");
            var tokenizerPath = r.GetValue(vocabFrom) ?? r.GetValue(tokenizer) ?? SharedFiles.FindVocabularyFile(p.DefaultTokenizer)
                ?? throw new CliException($"preset {p.Name} takes its vocabulary from {p.DefaultTokenizer}: pass --vocab-from PATH (not found under {SharedFiles.EnvironmentVariable} or a shared/models or shared/tokenizers folder)");
            if (!File.Exists(tokenizerPath)) throw new CliException($"vocabulary file not found: {tokenizerPath}");
            // A llama2.c tokenizer.bin is read whole; a smaller vocabulary than the shape's is padded (llama3-8b).
            var vocabulary = ModelFile.LoadVocabulary(tokenizerPath, vocabSize: null);
            if (r.GetValue(chatTemplate) is { } templatePath) vocabulary = vocabulary with { ChatTemplate = TemplateFiles.ReadValid(templatePath) };
            var config = p.ConfigFor(vocabulary);
            if (vocabulary.Count > config.VocabSize)
                throw new CliException($"the vocabulary has {vocabulary.Count} tokens, more than preset {p.Name}'s {config.VocabSize}");
            var destination = r.GetValue(outPath)!;
            using (var progress = new ConsoleProgress(error, $"synth {p.Name} {GgmlTypeInfo.Name(ggmlType)}"))
            {
                SyntheticModel.Write(p, vocabulary, ggmlType, destination, r.GetValue(seed), progress);
            }
            output.WriteLine($"wrote {destination} ({new FileInfo(destination).Length:N0} bytes, {p.Name}: {config.Describe()}, {GgmlTypeInfo.Name(ggmlType)})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static SyntheticPreset ResolvePreset(string name, string? archName)
    {
        ModelArchitecture? arch = null;
        if (archName is not null)
        {
            if (!ModelArchitectures.TryParse(archName, out var a)) throw new CliException($"unknown --arch '{archName}' ({string.Join(", ", ModelArchitectures.All)})");
            arch = a;
        }
        try
        {
            return SyntheticPreset.Resolve(name, arch);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static Option<string?> TypeOption(bool required) => new("--type")
    {
        Description = $"Tensor type of the weight matrices: {WritableTypes}",
        Required = required,
    };

    private static readonly string WritableTypes = string.Join(", ", Enum.GetValues<GgmlType>().Where(LlamaGguf.CanWrite).Select(GgmlTypeInfo.Name));

    private static GgmlType ParseType(string name) =>
        GgmlTypeInfo.TryParse(name, out var t) && LlamaGguf.CanWrite(t) ? t : throw new CliException($"unknown --type '{name}' ({WritableTypes})");
}
