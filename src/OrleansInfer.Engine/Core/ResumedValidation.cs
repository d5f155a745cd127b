using OrleansInfer.Engine.Generation;

namespace OrleansInfer.Engine.Core;

/// <summary>Checks a request's <see cref="GenerationRequest.Resumed"/> outputs against its parameters; failures name the field "resumed".</summary>
internal static class ResumedValidation
{
    private const string Field = "resumed";

    public static void Validate(GenerationRequest request, int vocabSize, int contextLength)
    {
        var resumed = request.Resumed ?? throw new InvalidRequestException(Field, "must not be null");
        if (resumed.Count == 0) return;
        var p = request.Sampling;
        if (p.IsBeamSearch) throw new InvalidRequestException(Field, "beam search cannot be resumed; restart it");
        var width = p.Width;
        var what = p.Streams ? "output" : "candidate";
        var prompt = request.PromptTokens.Length;
        var seen = new HashSet<int>();
        var finished = 0;
        foreach (var o in resumed)
        {
            if (o?.Tokens is null) throw new InvalidRequestException(Field, "an entry or its tokens are null");
            if ((uint)o.Index >= (uint)width) throw new InvalidRequestException(Field, $"index {o.Index} is outside the request's {width} {what}(s)");
            if (!seen.Add(o.Index)) throw new InvalidRequestException(Field, $"{what} {o.Index} is listed twice");
            foreach (var t in o.Tokens)
            {
                if ((uint)t >= (uint)vocabSize) throw new InvalidRequestException(Field, $"{what} {o.Index}: token id {t} is outside the vocabulary of {vocabSize}");
            }
            var length = o.Tokens.Length;
            if (o.Finished is null)
            {
                if (length >= p.MaxTokens) throw new InvalidRequestException(Field, $"{what} {o.Index} has {length} tokens of max_tokens {p.MaxTokens} but is not finished");
                if (prompt + length >= contextLength)
                    throw new InvalidRequestException(Field, $"{what} {o.Index}: {prompt} prompt and {length} generated tokens leave no room in the context of {contextLength}");
            }
            else
            {
                finished++;
                if (length == 0) throw new InvalidRequestException(Field, $"{what} {o.Index} is finished but has no tokens");
                if (length > p.MaxTokens) throw new InvalidRequestException(Field, $"{what} {o.Index} has {length} tokens, over max_tokens {p.MaxTokens}");
                if (prompt + length > contextLength)
                    throw new InvalidRequestException(Field, $"{what} {o.Index}: {prompt} prompt and {length} generated tokens exceed the context of {contextLength}");
            }
            if (p.Logprobs is null) continue;
            if (o.Logprobs is { } lps && lps.Count != length)
                throw new InvalidRequestException(Field, $"{what} {o.Index} has {lps.Count} logprobs entries for {length} tokens");
            // A candidate's logprobs are only sent with the final result, so they must come back with it.
            if (o.Logprobs is null && !p.Streams && length > 0)
                throw new InvalidRequestException(Field, $"{what} {o.Index} has no logprobs, and the request asks for them");
        }
        if (finished == width) throw new InvalidRequestException(Field, $"all {width} {what}s already finished: there is nothing to resume");
    }
}
