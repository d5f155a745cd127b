using System.Diagnostics;
using OrleansInfer.Model.Chat;

namespace OrleansInfer.Cli.Bench;

/// <summary>Settings of the chat-template rendering benchmark.</summary>
public sealed record TemplateBenchSettings(int Messages, bool System, TimeSpan Warmup, int Rounds, int RendersPerRound);

/// <summary>Median and spread of the time one render takes, over rounds of back-to-back renders after warm-up.</summary>
public sealed record TemplateBenchResult(double MedianMicroseconds, double P10Microseconds, double P90Microseconds, int OutputChars);

/// <summary>Renders a chat template for a synthetic conversation, as a gateway does for every chat request.</summary>
public static class TemplateBench
{
    public static TemplateBenchResult Run(ChatTemplate template, TemplateBenchSettings settings)
    {
        var messages = Conversation(settings.Messages, settings.System);
        var text = template.Render(messages);
        // Warm up by time, not count: the JIT's tiered compilation needs seconds to settle on the optimized code.
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < settings.Warmup) template.Render(messages);
        var perRender = new List<double>(settings.Rounds);
        for (var round = 0; round < settings.Rounds; round++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < settings.RendersPerRound; i++) template.Render(messages);
            perRender.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / settings.RendersPerRound);
        }
        return new TemplateBenchResult(Statistics.Median(perRender), Statistics.Percentile(perRender, 0.1), Statistics.Percentile(perRender, 0.9), text.Length);
    }

    /// <summary><paramref name="count"/> messages: an optional system message, then user and assistant turns, ending on a user turn.</summary>
    public static List<ChatMessage> Conversation(int count, bool system)
    {
        var messages = new List<ChatMessage>(count);
        if (system && count > 0) messages.Add(ChatMessage.System("You are a helpful assistant. Answer briefly and cite the facts you use."));
        var turn = 0;
        while (messages.Count < count)
        {
            var remaining = count - messages.Count;
            // The last message is a user turn, so a conversation always alternates user, assistant, ..., user.
            var user = turn % 2 == 0 || remaining == 1 && messages.Count > 0 && messages[^1].Role == "assistant";
            messages.Add(user
                ? ChatMessage.User($"Question {turn / 2 + 1}: what happened in chapter {turn + 3} of the story, and why does it matter?  ")
                : ChatMessage.Assistant($"In chapter {turn + 2} the travellers reach the river and decide to build a raft; it matters because the bridge is gone."));
            turn++;
        }
        return messages;
    }
}
