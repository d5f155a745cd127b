using OrleansInfer.Cli.Infrastructure;

namespace OrleansInfer.Cli.Generation;

/// <summary>`generate` with one prompt in text mode: the prompt, then its continuation as it is generated.</summary>
internal static class StreamedText
{
    /// <summary>Writes the stream; a failure ends the line and is named on stderr. Returns the exit code and the tokens seen.</summary>
    public static async Task<(int ExitCode, long Tokens)> WriteAsync(string prompt, IAsyncEnumerable<(string Text, int Tokens)> pieces, TextWriter output, TextWriter error)
    {
        output.Write(prompt);
        long tokens = 0;
        try
        {
            await foreach (var (text, count) in pieces)
            {
                output.Write(text);
                output.Flush();
                tokens += count;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            output.WriteLine();
            output.Flush();
            var failure = PromptFailure.Of(e);
            error.WriteLine($"orleans-infer: prompt 0 failed ({failure.Type}): {failure.Message}");
            return (failure.IsInvalidRequest ? ExitCodes.Usage : ExitCodes.Failure, tokens);
        }
        output.WriteLine();
        return (ExitCodes.Ok, tokens);
    }
}
