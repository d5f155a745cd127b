using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Core;

namespace OrleansInfer.Grains.Workers;

/// <summary>A request a worker is serving: its engine stream, and whether it was handed off or replaced.</summary>
internal sealed class ActiveRequest(GenerateRequest request, RequestStream stream)
{
    public GenerateRequest Request { get; } = request;

    public RequestStream Stream { get; } = stream;

    /// <summary>Set when the request is handed to another worker; its stream then ends with a move there.</summary>
    public string? MoveTarget { get; private set; }

    /// <summary>A newer call with the same request id took over (the client reconnected through another gateway).</summary>
    public bool Superseded { get; private set; }

    /// <summary>The engine's stream ended normally: the request finished and can no longer move.</summary>
    public bool Completed { get; set; }

    /// <summary>Only requests whose progress the client records can continue elsewhere: streamed outputs, or best_of with progress.</summary>
    public bool CanMove => MoveTarget is null && !Superseded && !Completed && Request.Sampling.CanResume
        && (Request.Sampling.Streams || Request.ReportProgress);

    /// <summary>Hands the request off: the engine drops it and the stream ends with a move to <paramref name="target"/>.</summary>
    public bool MoveTo(string target)
    {
        if (!CanMove) return false;
        MoveTarget = target;
        Stream.Cancel();
        return true;
    }

    public void Supersede()
    {
        Superseded = true;
        Stream.Cancel();
    }
}

/// <summary>The requests a worker serves, by request id. Touched only from the worker grain's turns (no locks).</summary>
internal sealed class ActiveRequests
{
    private readonly Dictionary<string, ActiveRequest> _byId = new(StringComparer.Ordinal);

    public int Count => _byId.Count;

    public IReadOnlyCollection<ActiveRequest> All => _byId.Values;

    /// <summary>Registers <paramref name="request"/>; an earlier call with the same id is superseded.</summary>
    public void Add(ActiveRequest request)
    {
        if (_byId.TryGetValue(request.Request.RequestId, out var earlier)) earlier.Supersede();
        _byId[request.Request.RequestId] = request;
    }

    public ActiveRequest? Find(string requestId) => _byId.GetValueOrDefault(requestId);

    /// <summary>Removes <paramref name="request"/> unless a newer call with its id replaced it.</summary>
    public void Remove(ActiveRequest request)
    {
        if (_byId.TryGetValue(request.Request.RequestId, out var current) && ReferenceEquals(current, request)) _byId.Remove(request.Request.RequestId);
    }
}
