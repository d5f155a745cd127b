using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Cli.Commands;

/// <summary>`generate`: runs one prompt or a file of prompts through the engine, streaming text or printing JSON lines.</summary>
internal static class GenerateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Prompt text" };
        var promptsFile = new Option<string?>("--prompts-file") { Description = "JSON lines file, each line a JSON string prompt" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Most tokens to generate per prompt", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 is greedy", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Keep the K most likely tokens (0: all)", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass in (0, 1]", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below this fraction of the top probability", DefaultValueFactory = _ => 0.05f };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for reproducible sampling" };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating past the end-of-sequence token" };
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var limits = new EngineLimitOptions();

        var command = new Command("generate", "Generate text from a prompt or a file of prompts");
        foreach (var o in new Option[] { model, tokenizer, prompt, promptsFile, maxTokens, temperature, topK, topP, minP, seed, ignoreEos, json, threads }) command.Options.Add(o);
        limits.AddTo(command);

        command.SetAction(r =>
        {
            var prompts = ReadPrompts(r.GetValue(prompt), r.GetValue(promptsFile));
            var sampling = new SamplingParams
            {
                MaxTokens = r.GetValue(maxTokens),
                Temperature = r.GetValue(temperature),
                TopK = r.GetValue(topK),
                TopP = r.GetValue(topP),
                MinP = r.GetValue(minP),
                Seed = r.GetValue(seed),
                IgnoreEos = r.GetValue(ignoreEos),
            };
            ValidateSampling(sampling);
            var runnerOptions = limits.ToRunnerOptions(r, r.GetValue(threads));

            using var loaded = LoadedModel.Load(r.GetValue(model)!, r.GetValue(tokenizer), runnerOptions, error);
            var tok = loaded.Tokenizer;
            var requests = prompts.Select(p => new GenerationRequest(tok.Encode(p, addSpecial: true, parseSpecial: true), sampling)).ToList();
            var generator = new BatchGenerator(loaded.Runner!, tok.Vocabulary.EndOfGenerationIds);
            var asJson = r.GetValue(json);
            var clock = Stopwatch.StartNew();
            IReadOnlyList<GenerationResult> results;
            if (!asJson && prompts.Count == 1)
            {
                // Stream the single prompt's continuation as it is sampled.
                output.Write(prompts[0]);
                var detok = tok.CreateStreamingDetokenizer(requests[0].PromptTokens[^1]);
                results = Run(generator, requests, (_, token) =>
                {
                    output.Write(detok.Append(token));
                    output.Flush();
                });
                output.WriteLine(detok.Flush());
            }
            else
            {
                results = Run(generator, requests, null);
            }

            var generated = results.Sum(x => x.Tokens.Length);
            for (var i = 0; i < results.Count; i++)
            {
                var res = results[i];
                var text = DecodeContinuation(tok, res.Tokens, res.PromptTokens[^1]);
                if (asJson)
                {
                    output.WriteLine(Json.Object(w =>
                    {
                        w.WriteString("prompt", prompts[i]);
                        w.WriteInts("prompt_token_ids", res.PromptTokens);
                        w.WriteInts("token_ids", res.Tokens);
                        w.WriteString("text", text);
                        w.WriteString("finish_reason", res.FinishReason.ToWireName());
                    }));
                }
                else if (prompts.Count > 1)
                {
                    output.WriteLine(prompts[i] + text);
                    output.WriteLine();
                }
            }
            error.WriteLine($"[{results.Count} prompt(s), {generated} tokens in {clock.Elapsed.TotalSeconds:F2} s, {generated / clock.Elapsed.TotalSeconds:F1} tokens/s on {loaded.Runner!.DeviceName}]");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IReadOnlyList<GenerationResult> Run(BatchGenerator generator, List<GenerationRequest> requests, Action<int, int>? onToken)
    {
        try
        {
            return generator.Generate(requests, onToken);
        }
        catch (InvalidRequestException e)
        {
            throw new CliException($"invalid request: {e.Message}");
        }
    }

    /// <summary>The generated text alone: decoded as a stream that starts after the prompt's last token.</summary>
    private static string DecodeContinuation(OrleansInfer.Model.Tokenization.Tokenizer tok, int[] tokens, int previous)
    {
        var detok = tok.CreateStreamingDetokenizer(previous);
        var text = new System.Text.StringBuilder();
        foreach (var t in tokens) text.Append(detok.Append(t));
        return text.Append(detok.Flush()).ToString();
    }

    private static void ValidateSampling(SamplingParams sampling)
    {
        try
        {
            sampling.Validate();
        }
        catch (InvalidRequestException e)
        {
            throw new CliException($"invalid --{e.Field.Replace('_', '-')}: {e.Reason}");
        }
    }

    private static List<string> ReadPrompts(string? prompt, string? file)
    {
        if ((prompt is null) == (file is null)) throw new CliException("give exactly one of --prompt or --prompts-file");
        if (prompt is not null) return [prompt];
        if (!File.Exists(file)) throw new CliException($"prompts file not found: {file}");
        var prompts = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(file!))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                prompts.Add(JsonSerializer.Deserialize<string>(line) ?? throw new JsonException("null is not a prompt"));
            }
            catch (JsonException e)
            {
                throw new CliException($"{file}:{lineNumber}: each line must be a JSON string ({e.Message.Split('.')[0]})");
            }
        }
        if (prompts.Count == 0) throw new CliException($"prompts file {file} holds no prompts");
        return prompts;
    }
}
