using OrleansInfer.Abstractions;
using OrleansInfer.Engine.KvCache;

namespace OrleansInfer.Grains.Routing;

/// <summary>Chooses among the workers a request fits on. Implementations are deterministic for a given view.</summary>
public interface IPlacementPolicy
{
    string Name { get; }

    WorkerView Choose(IReadOnlyList<WorkerView> fits, PlacementRequest request);
}

public static class PlacementPolicies
{
    public const string KvAware = "kv-aware";
    public const string LeastLoaded = "least-loaded";
    public const string RoundRobin = "round-robin";
    public const string PrefixAware = "prefix-aware";

    public static IReadOnlyList<string> Names { get; } = [KvAware, LeastLoaded, RoundRobin, PrefixAware];

    public static IPlacementPolicy Create(string name) => name switch
    {
        KvAware => new KvAwarePolicy(),
        LeastLoaded => new LeastLoadedPolicy(),
        RoundRobin => new RoundRobinPolicy(),
        PrefixAware => new PrefixAwarePolicy(),
        _ => throw new ArgumentException($"unknown placement policy '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };

    /// <summary>Most KV left after admitting the request, then the shorter queue, then the key.</summary>
    internal static WorkerView BestByKv(IEnumerable<WorkerView> fits, PlacementRequest r) => fits
        .OrderByDescending(w => w.EffectiveFreeBlocks - w.BlocksNeeded(r))
        .ThenBy(w => w.Queue)
        .ThenBy(w => w.Key, StringComparer.Ordinal)
        .First();
}

/// <summary>The default: where the sequence fits best by free KV after admitting its prompt and expected output.</summary>
public sealed class KvAwarePolicy : IPlacementPolicy
{
    public string Name => PlacementPolicies.KvAware;

    public WorkerView Choose(IReadOnlyList<WorkerView> fits, PlacementRequest request) => PlacementPolicies.BestByKv(fits, request);
}

/// <summary>Fewest running, waiting and in-flight requests; then most free KV.</summary>
public sealed class LeastLoadedPolicy : IPlacementPolicy
{
    public string Name => PlacementPolicies.LeastLoaded;

    public WorkerView Choose(IReadOnlyList<WorkerView> fits, PlacementRequest request) => fits
        .OrderBy(w => w.Load.RunningRequests + w.Queue)
        .ThenByDescending(w => w.EffectiveFreeBlocks)
        .ThenBy(w => w.Key, StringComparer.Ordinal)
        .First();
}

/// <summary>Each worker in turn (key order), skipping those the request does not fit.</summary>
public sealed class RoundRobinPolicy : IPlacementPolicy
{
    private string? _last;

    public string Name => PlacementPolicies.RoundRobin;

    public WorkerView Choose(IReadOnlyList<WorkerView> fits, PlacementRequest request)
    {
        var ordered = fits.OrderBy(w => w.Key, StringComparer.Ordinal).ToList();
        var next = ordered.FirstOrDefault(w => _last is not null && string.CompareOrdinal(w.Key, _last) > 0) ?? ordered[0];
        _last = next.Key;
        return next;
    }
}

/// <summary>The worker already holding most of the prompt's leading blocks in its prefix cache; ties go to KV.</summary>
public sealed class PrefixAwarePolicy : IPlacementPolicy
{
    public string Name => PlacementPolicies.PrefixAware;

    public WorkerView Choose(IReadOnlyList<WorkerView> fits, PlacementRequest request)
    {
        var scored = fits.Select(w => (Worker: w, Matched: MatchedBlocks(w, request))).ToList();
        var best = scored.Max(s => s.Matched);
        return PlacementPolicies.BestByKv(scored.Where(s => s.Matched == best).Select(s => s.Worker), request);
    }

    /// <summary>How many leading full blocks of the prompt the worker reports holding.</summary>
    public static int MatchedBlocks(WorkerView w, PlacementRequest request)
    {
        if (w.Load.PrefixHashes.Length == 0 || w.Load.BlockSize <= 0) return 0;
        var held = new HashSet<ulong>(w.Load.PrefixHashes);
        var matched = 0;
        foreach (var h in PrefixHash.Chain(request.PromptTokens, w.Load.BlockSize))
        {
            if (!held.Contains(h)) break;
            matched++;
        }
        return matched;
    }
}
