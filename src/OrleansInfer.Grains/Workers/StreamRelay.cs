using System.Diagnostics;
using System.Runtime.CompilerServices;
using OrleansInfer.Abstractions;
using OrleansInfer.Engine;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Grains.Mapping;
using OrleansInfer.Grains.Telemetry;

namespace OrleansInfer.Grains.Workers;

/// <summary>
/// Relays one request's engine chunks to its caller: a heartbeat each period the engine has nothing new, a move
/// chunk when the request was handed off, and typed errors otherwise (invalid or refused requests, engine faults).
/// A stream that completed is never followed by a move: its caller has the whole output.
/// </summary>
internal sealed class StreamRelay(WorkerState state, TimeProvider time)
{
    /// <summary>A stream with no new tokens for this long gets an empty chunk, so its caller can tell a live worker from a dead one.</summary>
    public static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(1);

    public async IAsyncEnumerable<TokenChunk> Run(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var resumed = request.Resumed.Length > 0;
        if (resumed) ClusterInstruments.Resumed(state);
        var caller = Activity.Current;
        var span = ClusterSpans.StartGenerate(state, request, resumed);
        try
        {
            ActiveRequest active;
            try
            {
                if (state.Draining) throw new ClusterRejectedException(ClusterRejection.NoCapacity, $"worker {state.Key} is draining");
                state.Tickets.Add(request.PlacementTicket, time.GetUtcNow().UtcDateTime);
                // Submitted while the worker's span is current: the engine's request span becomes its child.
                active = new ActiveRequest(request, Submit(request));
            }
            catch (Exception e)
            {
                ClusterSpans.Fail(span, e);
                throw;
            }
            finally
            {
                Activity.Current = caller;
            }
            state.Requests.Add(active);

            var chunks = active.Stream.GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    var next = chunks.MoveNextAsync().AsTask();
                    while (!await CompletesWithin(next, HeartbeatPeriod, cancellationToken)) yield return new TokenChunk { Worker = state.Key };

                    GenerationChunk chunk;
                    try
                    {
                        if (!await next)
                        {
                            active.Completed = true;
                            break;
                        }
                        chunk = chunks.Current;
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && (active.MoveTarget is not null || active.Superseded))
                    {
                        break;
                    }
                    catch (EngineFaultException e)
                    {
                        throw ClusterSpans.Fail(span, new WorkerFaultException(state.Key, $"worker {state.Key}: {e.Message}"));
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw ClusterSpans.Fail(span, new WorkerFaultException(state.Key, $"worker {state.Key}: the engine stopped (its silo is shutting down)"));
                    }
                    yield return ChunkMapping.ToWire(chunk, state.Key);
                }

                if (active.Completed) yield break;
                if (active.Superseded)
                    throw ClusterSpans.Fail(span, new ClusterRejectedException(ClusterRejection.InvalidRequest, $"request {request.RequestId} was taken over by a newer call with the same id on {state.Key}"));
                span?.SetTag(ClusterTelemetryNames.MovedToAttribute, active.MoveTarget);
                yield return new TokenChunk { MovedTo = active.MoveTarget, Worker = state.Key };
            }
            finally
            {
                state.Requests.Remove(active);
                await chunks.DisposeAsync(); // cancels the engine request if the caller went away early
            }
        }
        finally
        {
            ClusterSpans.Stop(span);
        }
    }

    private RequestStream Submit(GenerateRequest request)
    {
        try
        {
            return state.Engine.Submit(RequestMapping.ToEngine(request));
        }
        catch (InvalidRequestException e)
        {
            throw new ClusterRejectedException(ClusterRejection.InvalidRequest, e.Message);
        }
        catch (RequestRejectedException e)
        {
            throw new ClusterRejectedException(ClusterRejection.NoCapacity, $"worker {state.Key}: {e.Message}");
        }
    }

    /// <summary>True when <paramref name="task"/> ended (in any state) within <paramref name="period"/>.</summary>
    private static async Task<bool> CompletesWithin(Task task, TimeSpan period, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(period, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception) when (task.IsCompleted)
        {
            // Its outcome is read by the caller.
        }
        return true;
    }
}
