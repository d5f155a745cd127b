using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model.Chat;

namespace OrleansInfer.Cli.Chat;

/// <summary>
/// A conversation with the engine: each turn renders the whole history through the chat template, so the KV blocks
/// of the earlier turns are found again by prefix caching and only the new turn is prefilled.
/// </summary>
internal sealed class ChatSession(LlmEngine engine, ChatTemplate template, SamplingParams sampling, string? system)
{
    private readonly List<ChatMessage> _history = Initial(system);

    public IReadOnlyList<ChatMessage> History => _history;

    /// <summary>Prompt tokens the last reply found in the prefix cache.</summary>
    public int LastCachedPromptTokens { get; private set; }

    /// <summary>Forgets every turn but the system message.</summary>
    public void Reset()
    {
        _history.Clear();
        _history.AddRange(Initial(system));
    }

    /// <summary>
    /// Streams the reply to <paramref name="userText"/> into <paramref name="output"/>. Cancelling <paramref name="stop"/>
    /// ends the reply early (the request and its blocks are released); what was said so far stays in the history.
    /// </summary>
    public async Task<string> ReplyAsync(string userText, TextWriter output, CancellationToken stop)
    {
        _history.Add(ChatMessage.User(userText));
        var prompt = template.Encode(engine.Tokenizer, _history);
        var reply = new System.Text.StringBuilder();
        try
        {
            await foreach (var chunk in engine.StreamAsync(new GenerationRequest(prompt.TokenIds, sampling), stop).ConfigureAwait(false))
            {
                reply.Append(chunk.Text);
                await output.WriteAsync(chunk.Text).ConfigureAwait(false);
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                if (chunk.Usage is { } usage) LastCachedPromptTokens = usage.CachedPromptTokens;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped by the user: keep the partial reply, as the conversation on screen shows it.
        }
        catch
        {
            _history.RemoveAt(_history.Count - 1);
            throw;
        }
        _history.Add(ChatMessage.Assistant(reply.ToString()));
        return reply.ToString();
    }

    private static List<ChatMessage> Initial(string? system) => system is null ? [] : [ChatMessage.System(system)];
}
