using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Cli.Generation;

/// <summary>
/// Writes each prompt's result as soon as it and every result before it (in input order) are done, so a failure
/// late in a batch never loses what finished; a prompt that finally failed gets its error in its place (JSON) or
/// is named on stderr (text). Returns the exit code: 0, 2 when every failure is an invalid request, else 1.
/// </summary>
internal static class OrderedResultWriter
{
    public static async Task<(int ExitCode, long CompletionTokens)> WriteAsync(IReadOnlyList<string> prompts, IReadOnlyList<Task<GenerationResult>> results,
        bool asJson, TextWriter output, TextWriter error)
    {
        var failures = new List<(int Index, PromptFailure Failure)>();
        long completion = 0;
        for (var i = 0; i < results.Count; i++)
        {
            GenerationResult result;
            try
            {
                result = await results[i].ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var failure = PromptFailure.Of(e);
                failures.Add((i, failure));
                if (asJson) output.WriteLine(ResultJson.Failure(i, prompts[i], failure));
                else error.WriteLine($"orleans-infer: prompt {i} failed ({failure.Type}): {failure.Message}");
                output.Flush();
                continue;
            }

            completion += result.Usage.CompletionTokens;
            if (asJson) output.WriteLine(ResultJson.Result(prompts[i], result));
            else
            {
                foreach (var o in result.Outputs)
                {
                    output.WriteLine(prompts[i] + o.Text);
                    output.WriteLine();
                }
            }
            output.Flush();
        }

        if (failures.Count == 0) return (ExitCodes.Ok, completion);
        if (asJson) error.WriteLine($"orleans-infer: {failures.Count} of {prompts.Count} prompt(s) failed; first: prompt {failures[0].Index} ({failures[0].Failure.Type}): {failures[0].Failure.Message}");
        return (failures.TrueForAll(f => f.Failure.IsInvalidRequest) ? ExitCodes.Usage : ExitCodes.Failure, completion);
    }
}
