using System.CommandLine;
using System.Globalization;
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

    private static Command Inspect(TextWriter output)
    {
        var path = new Argument<string>("path") { Description = "GGUF file or llama2.c checkpoint" };
        var tokenizer = CommonOptions.Tokenizer();
        var json = CommonOptions.Json();
        var command = new Command("inspect", "Show metadata, tensors, parameter count and bytes per type");
        command.Arguments.Add(path);
        command.Options.Add(tokenizer);
        command.Options.Add(json);
        command.SetAction(r =>
        {
            using var file = LoadedModel.OpenFile(r.GetValue(path)!, r.GetValue(tokenizer), requireWeights: false);
            var tensors = file.Gguf is { } g
                ? g.Tensors.Select(t => (t.Name, t.Type, t.Shape, t.ByteCount, t.ElementCount)).ToList()
                : file.Weights!.All().Select(t => (t.Name, t.Type, t.Shape, t.ByteCount, t.ElementCount)).ToList();
            var parameters = tensors.Sum(t => t.ElementCount);
            var byType = tensors.GroupBy(t => t.Type).OrderBy(x => x.Key).Select(x => (Type: GgmlTypeInfo.Name(x.Key), Bytes: x.Sum(t => t.ByteCount), Count: x.Count())).ToList();
            if (r.GetValue(json))
            {
                output.WriteLine(Json.Object(w =>
                {
                    w.WriteString("format", file.Format.ToString().ToLowerInvariant());
                    if (file.Gguf is not null) w.WriteNumber("gguf_version", file.Gguf.Version);
                    if (file.Config is { } c) WriteConfig(w, c);
                    w.WriteNumber("vocab_tokens", file.Vocabulary.Count);
                    w.WriteNumber("parameters", parameters);
                    w.WriteStartObject("bytes_by_type");
                    foreach (var t in byType) w.WriteNumber(t.Type, t.Bytes);
                    w.WriteEndObject();
                    w.WriteStartObject("metadata");
                    foreach (var (k, v) in file.Gguf?.Metadata.Entries ?? []) w.WriteString(k, v.ToString());
                    w.WriteEndObject();
                    w.WriteStartArray("tensors");
                    foreach (var t in tensors)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", t.Name);
                        w.WriteString("type", GgmlTypeInfo.Name(t.Type));
                        w.WriteStartArray("shape");
                        foreach (var d in t.Shape) w.WriteNumberValue(d);
                        w.WriteEndArray();
                        w.WriteNumber("bytes", t.ByteCount);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }));
                return ExitCodes.Ok;
            }

            output.WriteLine($"file:       {file.Path}");
            output.WriteLine($"format:     {(file.Gguf is { } gg ? $"GGUF v{gg.Version}, {gg.Metadata.Count} metadata keys, alignment {gg.Alignment}" : "llama2.c checkpoint")}");
            if (file.Config is { } cfg) output.WriteLine($"model:      {cfg.Describe()}, {(cfg.TiedOutput ? "tied" : "separate")} classifier, rms eps {cfg.RmsEpsilon.ToString(CultureInfo.InvariantCulture)}, rope base {cfg.RopeBase.ToString(CultureInfo.InvariantCulture)} over {cfg.RopeDimensionCount} dims");
            else output.WriteLine("model:      no weights (vocabulary only)");
            output.WriteLine($"tokenizer:  {file.Vocabulary.Kind}, {file.Vocabulary.Count} tokens, BOS {file.Vocabulary.BosId}, EOS {file.Vocabulary.EosId}");
            output.WriteLine($"parameters: {parameters:N0} ({parameters / 1e6:F2} M)");
            foreach (var t in byType) output.WriteLine($"  {t.Type,-6} {t.Count,5} tensors {t.Bytes,16:N0} bytes");
            if (file.Gguf is { } meta)
            {
                output.WriteLine("metadata:");
                foreach (var (k, v) in meta.Metadata.Entries) output.WriteLine($"  {k} = {v}");
            }
            output.WriteLine("tensors:");
            foreach (var t in tensors) output.WriteLine($"  {t.Name,-28} {GgmlTypeInfo.Name(t.Type),-5} [{string.Join(" x ", t.Shape)}] {t.ByteCount:N0} bytes");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteConfig(System.Text.Json.Utf8JsonWriter w, LlamaConfig c)
    {
        w.WriteStartObject("config");
        w.WriteNumber("context_length", c.ContextLength);
        w.WriteNumber("embedding_length", c.EmbeddingLength);
        w.WriteNumber("block_count", c.BlockCount);
        w.WriteNumber("feed_forward_length", c.FeedForwardLength);
        w.WriteNumber("head_count", c.HeadCount);
        w.WriteNumber("head_count_kv", c.KvHeadCount);
        w.WriteNumber("vocab_size", c.VocabSize);
        w.WriteNumber("rms_epsilon", c.RmsEpsilon);
        w.WriteNumber("rope_base", c.RopeBase);
        w.WriteNumber("rope_dimension_count", c.RopeDimensionCount);
        w.WriteBoolean("tied_output", c.TiedOutput);
        w.WriteEndObject();
    }

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
        var preset = new Option<string>("--preset") { Description = $"Model shape: {string.Join(", ", SyntheticPreset.All.Select(p => p.Name))}", Required = true };
        var type = TypeOption(required: true);
        var outPath = new Option<string>("--out", "-o") { Description = "GGUF file to write", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 1 };
        var tokenizer = CommonOptions.Tokenizer();
        var chatTemplate = TemplateFiles.ChatTemplateOption("Jinja chat template file to store as tokenizer.chat_template");
        var command = new Command("synth", "Write a random-weight model at a real model's shape, for benchmarks");
        foreach (var o in new Option[] { preset, type, outPath, seed, tokenizer, chatTemplate }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var name = r.GetValue(preset)!;
            var p = SyntheticPreset.Find(name) ?? throw new CliException($"unknown preset '{name}' (known: {string.Join(", ", SyntheticPreset.All.Select(x => x.Name))})");
            var ggmlType = ParseType(r.GetValue(type)!);
            var tokenizerPath = r.GetValue(tokenizer) ?? SharedFiles.FindModelFile(p.DefaultTokenizer)
                ?? throw new CliException($"preset {p.Name} takes its vocabulary from {p.DefaultTokenizer}: pass --tokenizer PATH (not found under {SharedFiles.EnvironmentVariable} or a shared/models folder)");
            if (!File.Exists(tokenizerPath)) throw new CliException($"tokenizer file not found: {tokenizerPath}");
            // A llama2.c tokenizer.bin is read whole; a smaller vocabulary than the shape's is padded (llama3-8b).
            var vocabulary = ModelFile.LoadVocabulary(tokenizerPath, vocabSize: null);
            if (r.GetValue(chatTemplate) is { } templatePath) vocabulary = vocabulary with { ChatTemplate = TemplateFiles.ReadValid(templatePath) };
            var destination = r.GetValue(outPath)!;
            using (var progress = new ConsoleProgress(error, $"synth {p.Name} {GgmlTypeInfo.Name(ggmlType)}"))
            {
                SyntheticModel.Write(p, vocabulary, ggmlType, destination, r.GetValue(seed), progress);
            }
            output.WriteLine($"wrote {destination} ({new FileInfo(destination).Length:N0} bytes, {p.Name}: {p.Config.Describe()}, {GgmlTypeInfo.Name(ggmlType)})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<string?> TypeOption(bool required) => new("--type")
    {
        Description = "Tensor type of the weight matrices: f32, f16, bf16, q8_0, q4_0",
        Required = required,
    };

    private static GgmlType ParseType(string name) =>
        GgmlTypeInfo.TryParse(name, out var t) && Quantize.CanEncode(t) ? t : throw new CliException($"unknown --type '{name}' (f32, f16, bf16, q8_0 or q4_0)");
}
