namespace OrleansInfer.Cli.Chat;

/// <summary>
/// The chat loop over a reader: in a terminal it prompts and lets Ctrl+C stop a reply (Ctrl+C at the prompt
/// leaves); scripted (stdin not a terminal) it reads one user message per line and prints each reply on its line.
/// Lines /reset and /exit are commands in both.
/// </summary>
internal sealed class ChatConsole(ChatSession session, TextReader input, TextWriter output, TextWriter error, bool interactive)
{
    private CancellationTokenSource? _reply;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (interactive) await error.WriteLineAsync("chat: /reset clears the history, /exit leaves, Ctrl+C stops a reply").ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (interactive)
            {
                await output.WriteAsync("> ").ConfigureAwait(false);
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            var line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null) return;
            switch (line.Trim())
            {
                case "":
                    continue;
                case "/exit":
                    return;
                case "/reset":
                    session.Reset();
                    if (interactive) await error.WriteLineAsync("(history cleared)").ConfigureAwait(false);
                    continue;
            }

            using var reply = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Interlocked.Exchange(ref _reply, reply);
            try
            {
                await session.ReplyAsync(line, output, reply.Token).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Exchange(ref _reply, null);
            }
            cancellationToken.ThrowIfCancellationRequested();
            await output.WriteLineAsync().ConfigureAwait(false);
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Ctrl+C: stops the reply in progress and returns true; false when none is (the caller then leaves).</summary>
    public bool StopReply()
    {
        var reply = Volatile.Read(ref _reply);
        if (reply is null) return false;
        try
        {
            reply.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        return true;
    }
}
