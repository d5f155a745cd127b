using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Core;
using static OrleansInfer.Grains.Telemetry.ClusterTelemetryNames;

namespace OrleansInfer.Grains.Workers;

/// <summary>What the parts of a worker grain share: its identity, its engine, its requests and whether it drains.</summary>
internal sealed class WorkerState(string key, string modelId, int device, LlmEngine engine)
{
    public string Key { get; } = key;

    public string ModelId { get; } = modelId;

    public int Device { get; } = device;

    public LlmEngine Engine { get; } = engine;

    /// <summary>The silo's parsable address (from the key).</summary>
    public string Silo { get; } = WorkerKeys.Parse(key).Silo;

    /// <summary>The labels of the worker's metrics and spans: model, worker, silo, device.</summary>
    public KeyValuePair<string, object?>[] Labels { get; } =
        [new(ModelLabel, modelId), new(WorkerLabel, key), new(SiloLabel, WorkerKeys.Parse(key).Silo), new(DeviceLabel, engine.DeviceName)];

    public ActiveRequests Requests { get; } = new();

    public TicketAcknowledgements Tickets { get; } = new(TimeSpan.FromSeconds(5));

    public bool Draining { get; set; }

    /// <summary>The last load report's sequence number (the router drops reports older than the newest it has).</summary>
    public long ReportSequence { get; set; }
}
