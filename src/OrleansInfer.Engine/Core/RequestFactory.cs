using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// Turns a wire request into the engine's form: one sequence holding the prompt, plus, for a resumed request, its
/// finished outputs (kept for usage and best_of selection) and the plan of the outputs it continues.
/// </summary>
internal sealed class RequestFactory(SequencePool sequences, OutputProcessor outputs)
{
    public RequestState Create(long id, GenerationRequest request, long arrival)
    {
        var p = request.Sampling;
        var r = new RequestState(id, request.PromptTokens, p, request.Priority, arrival) { ReportProgress = request.ReportProgress };
        var plan = request.Resumed.Count > 0 ? Plan(r, request.Resumed) : null;
        var first = plan?[0] ?? new PlannedOutput(0, null);
        var root = NewSequence(r, first.Index, sequences.Generator(p, first));
        r.Live.Add(root);
        if (plan is { Count: 1 })
        {
            // A single output left: it continues on the prompt's own sequence (prompt and tokens computed together).
            if (first.Resumed is { } resumed) outputs.Resume(root, resumed);
            r.Expanded = true;
        }
        else
        {
            // Several: they fan out from the prompt's logits, sharing its blocks as a fresh request's samples do.
            r.Plan = plan;
        }
        return r;
    }

    /// <summary>The live outputs in index order; finished ones go straight to the request's done outputs.</summary>
    private List<PlannedOutput> Plan(RequestState r, IReadOnlyList<ResumedOutput> resumed)
    {
        var byIndex = resumed.ToDictionary(o => o.Index);
        var plan = new List<PlannedOutput>();
        for (var i = 0; i < r.Sampling.Width; i++)
        {
            if (!byIndex.TryGetValue(i, out var o)) plan.Add(new PlannedOutput(i, null));
            else if (o.Finished is null) plan.Add(new PlannedOutput(i, o));
            else
            {
                var done = NewSequence(r, i, default);
                outputs.Resume(done, o);
                r.Done.Add(done);
            }
        }
        return plan;
    }

    private Sequence NewSequence(RequestState r, int index, Sampling.Xoshiro256 rng)
    {
        var s = new Sequence(sequences.NextId(), r, index, [.. r.Prompt], rng);
        if (!r.IsBeamSearch) s.Text = outputs.NewText(r);
        if (r.Sampling.Logprobs is not null) s.Logprobs = [];
        return s;
    }
}
