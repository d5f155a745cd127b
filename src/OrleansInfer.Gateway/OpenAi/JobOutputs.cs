using OrleansInfer.Abstractions;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// Gathers a job's chunks into its choices and usage; both response writers feed every chunk through <see cref="Add"/>
/// so echo, offsets and counts are the same streamed or not.
/// </summary>
internal sealed class JobOutputs
{
    private readonly GenerationJob _job;
    private readonly bool[] _echoed;
    private readonly bool[] _usageSeen;

    public JobOutputs(GenerationJob job)
    {
        _job = job;
        Choices = Enumerable.Range(0, job.ChoiceCount).Select(i => new ChoiceState(i)).ToArray();
        _echoed = new bool[job.ChoiceCount];
        _usageSeen = new bool[job.Prompts.Count];
    }

    public ChoiceState[] Choices { get; }

    public UsageTotals Usage { get; } = new();

    /// <summary>
    /// Adds a chunk; returns its choice, the text to send for it (the echo first, on a choice's first chunk) and where
    /// the chunk's generated text starts in the choice's text (completions' text_offset).
    /// </summary>
    public (ChoiceState Choice, string Text, int Offset) Add(int prompt, TokenChunk chunk)
    {
        if (chunk.Usage is { } usage && !_usageSeen[prompt])
        {
            _usageSeen[prompt] = true;
            Usage.Add(usage);
        }
        var index = _job.ChoiceOf(prompt, Math.Clamp(chunk.Index, 0, _job.Sampling.N - 1));
        var choice = Choices[index];
        var text = chunk.Text;
        if (!_echoed[index])
        {
            _echoed[index] = true;
            if (_job.Prompts[prompt].Echo is { } echo) text = echo + text;
        }
        var offset = choice.TextLength + (text.Length - chunk.Text.Length);
        choice.Add(text, chunk);
        return (choice, text, offset);
    }

    /// <summary>Choices that were never told how they ended (a stream cut short) end as "stop", so clients can parse them.</summary>
    public static string FinishOf(ChoiceState choice) => choice.FinishReason ?? "stop";
}
