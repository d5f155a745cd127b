using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Cli.Generation;

/// <summary>`generate` without a cluster: every prompt goes into the embedded engine at once, one continuous batch.</summary>
internal static class LocalGenerate
{
    /// <summary>
    /// Submits every prompt; a prompt the engine refuses gets a failed task in its place. A parameter the engine
    /// refuses is the same for every prompt: nothing runs and the command fails at once (exit code 2).
    /// </summary>
    public static List<RequestStream?> Submit(LlmEngine engine, Tokenizer tokenizer, IReadOnlyList<string> prompts, SamplingParams parameters, List<Exception?> refused)
    {
        var streams = new List<RequestStream?>();
        foreach (var p in prompts)
        {
            try
            {
                streams.Add(engine.Submit(new GenerationRequest(tokenizer.Encode(p, addSpecial: true, parseSpecial: true), parameters)));
                refused.Add(null);
            }
            catch (InvalidRequestException e) when (e.Field != "prompt")
            {
                foreach (var s in streams) s?.Cancel();
                throw new CliException($"invalid --{SamplingOptions.OptionName(e.Field)}: {e.Reason}");
            }
            catch (Exception e) when (e is InvalidRequestException or RequestRejectedException)
            {
                streams.Add(null);
                refused.Add(e);
            }
        }
        return streams;
    }

    public static async Task<int> RunAsync(LlmEngine engine, Tokenizer tokenizer, IReadOnlyList<string> prompts, SamplingParams parameters, bool asJson,
        TextWriter output, TextWriter error, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var refused = new List<Exception?>();
        var streams = Submit(engine, tokenizer, prompts, parameters, refused);
        int exitCode;
        long generated;
        if (!asJson && prompts.Count == 1 && parameters.N == 1 && parameters.Streams && streams[0] is { } only)
        {
            (exitCode, generated) = await StreamedText.WriteAsync(prompts[0], Pieces(only, ct), output, error);
        }
        else
        {
            var results = streams.Select((s, i) => s is null ? Task.FromException<GenerationResult>(refused[i]!) : s.CollectAsync(ct)).ToList();
            (exitCode, generated) = await OrderedResultWriter.WriteAsync(prompts, results, asJson, output, error);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        error.WriteLine($"[{prompts.Count} prompt(s), {generated} tokens in {seconds:F2} s, {generated / seconds:F1} tokens/s on {engine.DeviceName}, {engine.TotalPreemptions} preemption(s)]");
        return exitCode;
    }

    private static async IAsyncEnumerable<(string, int)> Pieces(RequestStream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var chunk in stream.WithCancellation(ct)) yield return (chunk.Text, chunk.TokenIds.Count);
    }
}
