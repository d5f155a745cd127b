using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using OrleansInfer.Cli.Evaluation;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Cli.Commands;

/// <summary>`eval perplexity | kl | logits`: llama.cpp-style quality measures over an <see cref="IModelRunner"/>.</summary>
internal static class EvalCommand
{
    public const string Name = "eval";

    /// <summary>llama.cpp's perplexity tool defaults to chunks of 512 tokens; smaller models cap it at their context.</summary>
    public const int DefaultContext = 512;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command(Name, "Measure a model: perplexity, KL divergence against a base model, raw logits");
        command.Subcommands.Add(Perplexity(output, error));
        command.Subcommands.Add(Kl(output, error));
        command.Subcommands.Add(Logits(output, error));
        return command;
    }

    private static Command Perplexity(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model();
        var textFile = TextFileOption();
        var ctx = ContextOption();
        var kvType = EvalRunnerOptions.KvCacheType("--kv-cache-dtype", "KV cache element type: f32, f16 or q8_0");
        var json = CommonOptions.Json();
        var runner = new EvalRunnerOptions();
        var command = new Command("perplexity", "Perplexity over a text as llama.cpp's perplexity tool computes it (chunks of --ctx tokens, BOS first, second half scored)");
        foreach (var o in new Option[] { model, textFile, ctx, kvType, json }) command.Options.Add(o);
        runner.AddTo(command);
        command.SetAction(r =>
        {
            var kv = EvalRunnerOptions.ParseKvType("--kv-cache-dtype", r.GetValue(kvType)!);
            var (chunks, config) = Prepare(r.GetValue(model)!, r.GetValue(textFile)!, r.GetValue(ctx));
            using var loaded = LoadedModel.Load(r.GetValue(model)!, null, runner.For(r, config, kv, chunks.Context, chunks.Windows.Count), error);
            var result = Metrics.Perplexity(loaded.Runner!, chunks);
            if (r.GetValue(json))
            {
                output.WriteLine(Json.Object(w =>
                {
                    w.WriteNumber("perplexity", result.Perplexity);
                    w.WriteNumber("tokens", result.ScoredTokens);
                    w.WriteNumber("chunks", result.Chunks);
                    w.WriteNumber("ctx", chunks.Context);
                    w.WriteNumber("text_tokens", chunks.Tokens.Length);
                }));
            }
            else
            {
                output.WriteLine($"perplexity: {result.Perplexity.ToString("F4", CultureInfo.InvariantCulture)} over {result.ScoredTokens} tokens ({result.Chunks} chunks of {chunks.Context}, {chunks.Tokens.Length} text tokens)");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Kl(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model();
        var baseModel = new Option<string>("--base") { Description = "The reference model (e.g. the unquantized file) whose distributions are P in KL(P || Q)", Required = true };
        var textFile = TextFileOption();
        var ctx = ContextOption();
        var kvType = EvalRunnerOptions.KvCacheType("--kv-cache-dtype", "KV cache element type of --model: f32, f16 or q8_0");
        var baseKvType = EvalRunnerOptions.KvCacheType("--base-kv-cache-dtype", "KV cache element type of --base: f32, f16 or q8_0");
        var json = CommonOptions.Json();
        var runner = new EvalRunnerOptions();
        var command = new Command("kl", "KL divergence of --model from --base per scored token (mean, 99th percentile) and top-1 agreement, on llama.cpp's perplexity chunks");
        foreach (var o in new Option[] { model, baseModel, textFile, ctx, kvType, baseKvType, json }) command.Options.Add(o);
        runner.AddTo(command);
        command.SetAction(r =>
        {
            var kv = EvalRunnerOptions.ParseKvType("--kv-cache-dtype", r.GetValue(kvType)!);
            var baseKv = EvalRunnerOptions.ParseKvType("--base-kv-cache-dtype", r.GetValue(baseKvType)!);
            var (chunks, config) = Prepare(r.GetValue(baseModel)!, r.GetValue(textFile)!, r.GetValue(ctx));
            using (var m = LoadedModel.OpenFile(r.GetValue(model)!, null))
            {
                if (m.Config!.VocabSize != config.VocabSize || m.Vocabulary.Count != Vocabulary(r.GetValue(baseModel)!).Count)
                    throw new CliException($"vocabulary mismatch: --model has {m.Config.VocabSize} logits per token, --base {config.VocabSize}");
            }
            using var b = LoadedModel.Load(r.GetValue(baseModel)!, null, runner.For(r, config, baseKv, chunks.Context, chunks.Windows.Count), error);
            using var m2 = LoadedModel.Load(r.GetValue(model)!, null, runner.For(r, config, kv, chunks.Context, chunks.Windows.Count), error);
            var result = Metrics.KlDivergence(m2.Runner!, b.Runner!, chunks);
            if (r.GetValue(json))
            {
                output.WriteLine(Json.Object(w =>
                {
                    w.WriteNumber("mean_kl", result.Mean);
                    w.WriteNumber("p99_kl", result.P99);
                    w.WriteNumber("max_kl", result.Max);
                    w.WriteNumber("top1_agreement", result.TopAgreement);
                    w.WriteNumber("tokens", result.ScoredTokens);
                    w.WriteNumber("chunks", result.Chunks);
                    w.WriteNumber("ctx", chunks.Context);
                }));
            }
            else
            {
                var f = CultureInfo.InvariantCulture;
                output.WriteLine($"KL(base || model): mean {result.Mean.ToString("G6", f)}, p99 {result.P99.ToString("G6", f)}, max {result.Max.ToString("G6", f)}; top-1 agreement {(100 * result.TopAgreement).ToString("F2", f)}% over {result.ScoredTokens} tokens ({result.Chunks} chunks of {chunks.Context})");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Logits(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Text whose every position's logits to write (BOS added as generate does)", Required = true };
        var outPath = new Option<string>("--out", "-o") { Description = "File to write: tokens x vocabulary little-endian f32, row by row", Required = true };
        var kvType = EvalRunnerOptions.KvCacheType("--kv-cache-dtype", "KV cache element type: f32, f16 or q8_0");
        var json = CommonOptions.Json();
        var runner = new EvalRunnerOptions();
        var command = new Command("logits", "Write the raw logits of every prompt position");
        foreach (var o in new Option[] { model, prompt, outPath, kvType, json }) command.Options.Add(o);
        runner.AddTo(command);
        command.SetAction(r =>
        {
            var kv = EvalRunnerOptions.ParseKvType("--kv-cache-dtype", r.GetValue(kvType)!);
            int[] tokens;
            Model.LlamaConfig config;
            using (var file = LoadedModel.OpenFile(r.GetValue(model)!, null))
            {
                config = file.Config!;
                tokens = Tokenizer.Create(file.Vocabulary).Encode(r.GetValue(prompt)!, addSpecial: true, parseSpecial: true);
            }
            if (tokens.Length == 0) throw new CliException("the prompt has no tokens");
            using var loaded = LoadedModel.Load(r.GetValue(model)!, null, runner.For(r, config, kv, tokens.Length, 1), error);
            var destination = r.GetValue(outPath)!;
            using (var stream = new FileStream(destination, FileMode.Create, FileAccess.Write))
            {
                WindowEvaluator.Run([loaded.Runner!], [tokens], 0, tokens.Length, step =>
                    stream.Write(MemoryMarshal.AsBytes(step.Logits[0].AsSpan(0, config.VocabSize))));
            }
            if (r.GetValue(json))
            {
                output.WriteLine(Json.Object(w =>
                {
                    w.WriteString("out", destination);
                    w.WriteNumber("tokens", tokens.Length);
                    w.WriteNumber("vocab", config.VocabSize);
                    w.WriteStartArray("token_ids");
                    foreach (var t in tokens) w.WriteNumberValue(t);
                    w.WriteEndArray();
                }));
            }
            else
            {
                output.WriteLine($"wrote {destination}: {tokens.Length} positions x {config.VocabSize} logits (f32 little-endian)");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Option<string> TextFileOption() => new("--text-file", "-f") { Description = "UTF-8 text to evaluate on", Required = true };

    public static Option<int?> ContextOption() => new("--ctx", "-c") { Description = $"Tokens per chunk (default {DefaultContext}, at most the model's context)" };

    /// <summary>Tokenizes the text with the model's vocabulary and cuts it into llama.cpp's perplexity chunks.</summary>
    public static (TextChunks Chunks, Model.LlamaConfig Config) Prepare(string modelPath, string textPath, int? context)
    {
        if (!File.Exists(textPath)) throw new CliException($"text file not found: {textPath}");
        using var file = LoadedModel.OpenFile(modelPath, null);
        return (Prepare(file, textPath, context), file.Config!);
    }

    /// <summary>The chunks of a text for an opened model.</summary>
    public static TextChunks Prepare(Model.ModelFile file, string textPath, int? context)
    {
        if (!File.Exists(textPath)) throw new CliException($"text file not found: {textPath}");
        var config = file.Config!;
        var ctx = context ?? Math.Min(DefaultContext, config.ContextLength);
        if (ctx < 4) throw new CliException($"--ctx {ctx} is too small (at least 4)");
        if (ctx > config.ContextLength) throw new CliException($"--ctx {ctx} exceeds the model's context of {config.ContextLength}");
        var tokenizer = Tokenizer.Create(file.Vocabulary);
        var tokens = tokenizer.Encode(File.ReadAllText(textPath), addSpecial: true, parseSpecial: false);
        if (tokens.Length < ctx) throw new CliException($"the text has {tokens.Length} tokens, fewer than one chunk of {ctx} (pass a smaller --ctx or a longer text)");
        return TextChunks.Create(tokens, ctx, file.Vocabulary.AddBos ? tokenizer.BosId : -1);
    }

    private static Model.Tokenization.Vocabulary Vocabulary(string path)
    {
        using var f = LoadedModel.OpenFile(path, null);
        return f.Vocabulary;
    }
}
