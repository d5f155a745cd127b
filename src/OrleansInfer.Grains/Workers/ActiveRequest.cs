using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Grains.Workers;

/// <summary>A request a worker is serving: its engine stream and what was delivered, so it can be exported and moved.</summary>
internal sealed class ActiveRequest(GenerateRequest request, RequestStream stream)
{
    private readonly List<int> _delivered = [.. request.ResumeTokens];
    private ulong[]? _rng = request.RngState;

    public GenerateRequest Request { get; } = request;

    public RequestStream Stream { get; } = stream;

    /// <summary>Set when the request is handed to another worker; its stream then ends with a move there.</summary>
    public string? MoveTarget { get; private set; }

    public void Record(GenerationChunk chunk)
    {
        lock (_delivered)
        {
            _delivered.AddRange(chunk.TokenIds);
            if (chunk.RngState is { } s) _rng = [s.Item1, s.Item2, s.Item3, s.Item4];
        }
    }

    /// <summary>Hands the request off: the engine drops it and the stream ends with a move to <paramref name="target"/>.</summary>
    public bool MoveTo(string target)
    {
        if (!Request.Sampling.CanResume || MoveTarget is not null) return false;
        MoveTarget = target;
        Stream.Cancel();
        return true;
    }

    public SequenceState Export()
    {
        lock (_delivered)
        {
            return new SequenceState
            {
                RequestId = Request.RequestId,
                PromptTokens = Request.PromptTokens,
                Sampling = Request.Sampling,
                GeneratedTokens = [.. _delivered],
                RngState = _rng,
            };
        }
    }
}
