using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// What a cluster client keeps of a request's chunks, and the <see cref="ResumedOutput"/>s it resumes from: for a
/// streamed request its chunks, for best_of &gt; n the progress chunks of its candidates.
/// </summary>
public static class DeliveredRecord
{
    public static List<ResumedOutput> Resumed(IEnumerable<GenerationChunk> delivered, bool progress)
    {
        var outputs = new SortedDictionary<int, Output>();
        foreach (var c in delivered)
        {
            if (c.IsProgress != progress) continue;
            if (!outputs.TryGetValue(c.Index, out var o)) outputs[c.Index] = o = new Output();
            Assert.True(o.Finished is null, $"output {c.Index} got a chunk after its last one");
            o.Tokens.AddRange(c.TokenIds);
            if (c.Logprobs is not null) (o.Logprobs ??= []).AddRange(c.Logprobs);
            o.RngState = c.RngState ?? o.RngState;
            o.CumulativeLogprob = c.CumulativeLogprob;
            o.Finished = c.FinishReason;
        }
        return outputs.Select(kv => new ResumedOutput(kv.Key, [.. kv.Value.Tokens])
        {
            RngState = kv.Value.RngState,
            Finished = kv.Value.Finished,
            CumulativeLogprob = kv.Value.CumulativeLogprob,
            Logprobs = kv.Value.Logprobs,
        }).ToList();
    }

    private sealed class Output
    {
        public List<int> Tokens { get; } = [];
        public List<TokenLogprobs>? Logprobs { get; set; }
        public (ulong, ulong, ulong, ulong)? RngState { get; set; }
        public double CumulativeLogprob { get; set; }
        public FinishReason? Finished { get; set; }
    }
}
