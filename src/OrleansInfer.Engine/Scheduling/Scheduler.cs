using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Engine.Scheduling;

/// <summary>
/// Iteration-level scheduling over a token budget and a sequence cap. Running requests go first (decodes and
/// the next chunks of long prompts), then waiting requests in policy order. When blocks run out, the
/// lowest-priority, most recently admitted running request is preempted: its blocks are freed and it waits,
/// ahead of newer arrivals, to be recomputed from its tokens. Prefix-cache hits come from <see cref="PrefixHits"/>,
/// the runner's batch (diffs) from <see cref="BatchBuilder"/>.
/// </summary>
internal sealed class Scheduler
{
    private readonly BlockManager _blocks;
    private readonly SchedulingPolicy _policy;
    private readonly int _maxTokens;
    private readonly int _maxSeqs;
    private readonly List<RequestState> _waiting = [];
    private readonly List<RequestState> _running = [];
    private readonly List<long> _releases = [];
    private readonly List<BlockCopyRequest> _copies = [];
    private readonly List<Sequence> _scheduled = [];
    private readonly PrefixHits _prefixHits;
    private long _admissions;

    public Scheduler(BlockManager blocks, SchedulingPolicy policy, int maxNumBatchedTokens, int maxNumSeqs)
    {
        _blocks = blocks;
        _prefixHits = new PrefixHits(blocks);
        _policy = policy;
        _maxTokens = maxNumBatchedTokens;
        _maxSeqs = maxNumSeqs;
    }

    public IReadOnlyList<RequestState> Waiting => _waiting;

    public IReadOnlyList<RequestState> Running => _running;

    /// <summary>Requests in either queue.</summary>
    public bool HasRequests => _waiting.Count > 0 || _running.Count > 0;

    /// <summary>Requests to serve, or releases the runner has yet to be sent.</summary>
    public bool HasWork => HasRequests || _releases.Count > 0;

    public long TotalPreemptions { get; private set; }

    public int StepPreemptions { get; private set; }

    /// <summary>Called when a request is admitted for the first time (it leaves the bounded queue).</summary>
    public Action<RequestState>? Admitted { get; set; }

    /// <summary>Called when a running request is preempted (telemetry).</summary>
    public Action<RequestState>? Preempted { get; set; }

    /// <summary>Queues a new or preempted request for admission.</summary>
    public void Add(RequestState request)
    {
        request.IsWaiting = true;
        Insert(_waiting, request, r => (Key(r), r.Arrival));
    }

    /// <summary>Decides this step's work and writes it into <paramref name="batch"/>; returns the scheduled sequences in batch order.</summary>
    public List<Sequence> Schedule(ForwardBatch batch)
    {
        batch.Clear();
        _scheduled.Clear();
        _copies.Clear();
        StepPreemptions = 0;
        var budget = _maxTokens;
        var slots = _maxSeqs;

        for (var i = 0; i < _running.Count && budget > 0 && slots > 0;)
        {
            var request = _running[i];
            var outcome = TrySchedule(request, ref budget, ref slots);
            while (outcome == Outcome.NoBlocks)
            {
                var victim = _running[^1];
                Preempt(victim);
                if (victim == request) break;
                outcome = TrySchedule(request, ref budget, ref slots);
            }
            if (outcome == Outcome.NoBlocks) continue; // the request itself gave way; index i now holds the next one
            i++;
        }

        // Like vLLM, nothing new is admitted in a step that had to preempt.
        while (StepPreemptions == 0 && _waiting.Count > 0 && budget > 0 && slots > 0)
        {
            var request = _waiting[0];
            if (TrySchedule(request, ref budget, ref slots) != Outcome.Scheduled)
            {
                DropCopiesInto(request);
                foreach (var s in request.Live) FreeBlocks(s);
                break;
            }
            _waiting.RemoveAt(0);
            request.AdmitOrder = ++_admissions;
            Insert(_running, request, r => (Key(r), r.AdmitOrder));
            request.IsWaiting = false;
            if (request.LeaveQueue()) Admitted?.Invoke(request);
        }

        BatchBuilder.Write(batch, _releases, _copies, _scheduled);
        _releases.Clear();
        return _scheduled;
    }

    private enum Outcome
    {
        Scheduled,
        NoBudget,
        NoBlocks,
    }

    /// <summary>Plans every live sequence's tokens for this step and gets their blocks; all or nothing.</summary>
    private Outcome TrySchedule(RequestState request, ref int budget, ref int slots)
    {
        _prefixHits.Allocate(request);
        // Decided after the prefix-cache hits: they can leave every beam with only its last token to compute.
        var (tokens, seqs) = PlanTokens(request, budget, slots);
        if (tokens == 0 || seqs > slots) return Outcome.NoBudget;
        if (!ReserveBlocks(request)) return Outcome.NoBlocks;

        foreach (var s in request.Live)
        {
            if (s.Scheduled > 0) _scheduled.Add(s);
        }
        budget -= tokens;
        slots -= seqs;
        return Outcome.Scheduled;
    }

    /// <summary>Sets each live sequence's <see cref="Sequence.Scheduled"/> tokens; returns the tokens and sequences (0 tokens: nothing fits).</summary>
    private static (int Tokens, int Sequences) PlanTokens(RequestState request, int budget, int slots)
    {
        var live = request.Live;
        // Beams advance together: while any is behind (recompute after preemption) the others wait at their last token.
        var beamsInStep = request.IsBeamSearch && live.TrueForAll(s => s.Uncomputed == 1);
        var tokens = 0;
        var seqs = 0;
        foreach (var s in live)
        {
            var uncomputed = s.Uncomputed;
            var n = request.IsBeamSearch && !beamsInStep ? uncomputed - 1 : uncomputed;
            n = Math.Min(n, budget - tokens);
            // Parallel samples need not advance together: a request wider than the step's sequence slots advances
            // as many as fit.
            if (!request.IsBeamSearch && seqs >= slots) n = 0;
            s.Scheduled = Math.Max(0, n);
            s.WantsLogits = n == uncomputed;
            if (n <= 0) continue;
            tokens += n;
            seqs++;
        }
        return beamsInStep && seqs < live.Count ? (0, seqs) : (tokens, seqs);
    }

    /// <summary>Gets the blocks the planned tokens need, copying shared blocks before they are written.</summary>
    private bool ReserveBlocks(RequestState request)
    {
        foreach (var s in request.Live)
        {
            if (s.Scheduled == 0) continue;
            var end = s.ComputedTokens + s.Scheduled;
            if (!_blocks.TryAllocate(s.Blocks, end)) return false;
            var changed = _blocks.TryMakeWritable(s.Blocks, s.ComputedTokens, end, _copies);
            if (changed < 0) return false;
            if (s.RunnerBlocks > changed) s.RunnerBlocks = changed;
        }
        return true;
    }

    private void Preempt(RequestState request)
    {
        DropCopiesInto(request);
        foreach (var s in request.Live) FreeBlocks(s);
        _running.Remove(request);
        _scheduled.RemoveAll(s => s.Request == request);
        Add(request);
        StepPreemptions++;
        TotalPreemptions++;
        Preempted?.Invoke(request);
    }

    /// <summary>
    /// Drops the copy-on-write copies planned this step into blocks of <paramref name="request"/>, which is about to free
    /// them, so the runner is never sent a copy into a free block. (A copy's destination is a fresh block only its
    /// sequence holds.)
    /// </summary>
    private void DropCopiesInto(RequestState request)
    {
        for (var i = _copies.Count - 1; i >= 0; i--)
        {
            foreach (var s in request.Live)
            {
                if (!s.Blocks.Ids.Contains(_copies[i].Destination)) continue;
                _copies.RemoveAt(i);
                break;
            }
        }
    }

    /// <summary>Returns a sequence's blocks; the runner forgets it with the next batch; it will be recomputed from its tokens.</summary>
    public void FreeBlocks(Sequence s)
    {
        _blocks.Free(s.Blocks);
        s.ComputedTokens = 0;
        if (s.RunnerBlocks >= 0) _releases.Add(s.Id);
        s.RunnerBlocks = -1;
    }

    /// <summary>
    /// After a failed step: the runner may have thrown before applying the batch's releases, so they go out again with
    /// the next batch (a runner ignores the release of a sequence it does not hold, as <see cref="BlockTables"/> does), and
    /// never keeps the block table of a released sequence.
    /// </summary>
    public void ResendReleases(ForwardBatch failed)
    {
        foreach (var id in failed.Released) _releases.Add(id);
    }

    /// <summary>Removes a finished or aborted request from the queues (its sequences' blocks must be freed already).</summary>
    public void Remove(RequestState request)
    {
        if (!_running.Remove(request)) _waiting.Remove(request);
    }

    private (int, long) Key(RequestState r) => (_policy == SchedulingPolicy.Priority ? r.Priority : 0, 0);

    private static void Insert(List<RequestState> list, RequestState item, Func<RequestState, ((int, long), long)> key)
    {
        var k = key(item);
        var at = list.Count;
        while (at > 0 && key(list[at - 1]).CompareTo(k) > 0) at--;
        list.Insert(at, item);
    }
}
