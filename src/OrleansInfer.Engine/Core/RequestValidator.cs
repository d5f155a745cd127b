using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// The checks a request passes at submission, on the caller's thread: sampling parameters, the prompt, resumed
/// outputs, and whether it can ever fit the model's context and the KV pool. Failures name the field
/// (<see cref="InvalidRequestException"/>).
/// </summary>
internal sealed class RequestValidator(IModelRunner runner, int maxNumSeqs, int maxNumBatchedTokens)
{
    public void Validate(GenerationRequest request)
    {
        var c = runner.Config;
        var p = request.Sampling.Validate(c.VocabSize);
        var prompt = request.PromptTokens;
        if (prompt.Length == 0) throw new InvalidRequestException("prompt", "the prompt has no tokens");
        foreach (var t in prompt)
        {
            if ((uint)t >= (uint)c.VocabSize) throw new InvalidRequestException("prompt", $"token id {t} is outside the vocabulary of {c.VocabSize}");
        }
        if (prompt.Length >= c.ContextLength)
            throw new InvalidRequestException("prompt", $"{prompt.Length} prompt tokens leave no room in the model's context of {c.ContextLength}");
        if (p.IsBeamSearch && p.Stop.Count > 0) throw new InvalidRequestException("stop", "stop strings do not combine with beam search");
        ResumedValidation.Validate(request, c.VocabSize, c.ContextLength);
        // All beams advance in the same step: a width beyond the step's limits could never be scheduled.
        if (p.IsBeamSearch && (p.BeamWidth > maxNumSeqs || p.BeamWidth > maxNumBatchedTokens))
            throw new InvalidRequestException("beam_width", $"{p.BeamWidth} beams advance together, but a step carries at most {maxNumSeqs} sequences and {maxNumBatchedTokens} tokens");

        // The prompt's full blocks are shared by all of the request's sequences; each grows its own tail.
        var kv = runner.KvCache;
        var longest = (int)Math.Min((long)prompt.Length + p.MaxTokens, c.ContextLength);
        var shared = prompt.Length / kv.BlockSize;
        var perSequence = (longest + kv.BlockSize - 1) / kv.BlockSize - shared;
        var needed = shared + (long)p.Width * perSequence;
        if (needed > kv.BlockCount)
            throw new InvalidRequestException("max_tokens", $"{prompt.Length} prompt tokens plus {p.MaxTokens} new tokens x {p.Width} output(s) need {needed} KV blocks; the pool has {kv.BlockCount}");
    }
}
