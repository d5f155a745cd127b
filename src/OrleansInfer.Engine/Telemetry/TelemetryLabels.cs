namespace OrleansInfer.Engine.Telemetry;

/// <summary>
/// The labels every metric of one engine carries (and its request spans): <c>model</c>, <c>worker</c> (the worker key in a
/// cluster), <c>silo</c> (the silo's parsable address) and <c>device</c>. A standalone engine has no worker or silo (empty);
/// a null <see cref="Device"/> takes the runner's device name.
/// </summary>
public sealed record TelemetryLabels
{
    /// <summary>The model id (the router's key in a cluster); empty when the host gives none.</summary>
    public string Model { get; init; } = "";

    /// <summary>The worker key (<c>silo|device|model</c>); empty outside a cluster.</summary>
    public string Worker { get; init; } = "";

    /// <summary>The silo's parsable address; empty outside a cluster.</summary>
    public string Silo { get; init; } = "";

    /// <summary>The device description; null: the runner's <c>DeviceName</c>.</summary>
    public string? Device { get; init; }
}
