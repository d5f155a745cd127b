using System.Collections.Concurrent;

namespace OrleansInfer.Gateway.Inference;

/// <summary>
/// Bounds, per model, the requests admitted that have not produced their first token yet: beyond the bound a request
/// is refused at once (the caller retries later or elsewhere) instead of queueing without limit.
/// </summary>
internal sealed class AdmissionGate(int maxQueued)
{
    private readonly ConcurrentDictionary<string, StrongBox<int>> _queued = new(StringComparer.Ordinal);

    /// <summary>Requests of <paramref name="model"/> waiting for their first token now.</summary>
    public int Queued(string model) => _queued.TryGetValue(model, out var box) ? Volatile.Read(ref box.Value) : 0;

    /// <summary>A place in the model's queue, or null when it is full. Dispose (or <see cref="Ticket.Started"/>) releases it.</summary>
    public Ticket? TryEnter(string model)
    {
        var box = _queued.GetOrAdd(model, _ => new StrongBox<int>());
        while (true)
        {
            var current = Volatile.Read(ref box.Value);
            if (current >= maxQueued) return null;
            if (Interlocked.CompareExchange(ref box.Value, current + 1, current) == current) return new Ticket(box);
        }
    }

    internal sealed class StrongBox<T>
    {
        public T Value = default!;
    }

    /// <summary>A queued request's place: released once, when its first token arrives or it ends.</summary>
    public sealed class Ticket(StrongBox<int> box) : IDisposable
    {
        private int _released;

        public void Started() => Dispose();

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Decrement(ref box.Value);
        }
    }
}
