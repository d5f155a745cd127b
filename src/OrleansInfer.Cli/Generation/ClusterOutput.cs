using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Grains.Mapping;

namespace OrleansInfer.Cli.Generation;

/// <summary>One output's cluster chunks added up into the result form local generation gives.</summary>
internal sealed class ClusterOutput
{
    private readonly List<int> _tokens = [];
    private readonly System.Text.StringBuilder _text = new();
    private List<TokenLogprobs>? _logprobs;
    private FinishReason _finish = FinishReason.Length;
    private double _cumulative;

    public void Add(TokenChunk c)
    {
        _tokens.AddRange(c.TokenIds);
        _text.Append(c.Text);
        if (c.FinishReason is { } f) _finish = FinishReasons.Parse(f);
        foreach (var l in c.Logprobs ?? [])
        {
            (_logprobs ??= []).Add(ChunkMapping.ToEngine(l));
            _cumulative += l.Logprob;
        }
    }

    public GenerationOutput Build(int index) => new(index, [.. _tokens], _text.ToString(), _finish, _cumulative, _logprobs);
}
