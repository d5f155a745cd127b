using OrleansInfer.Engine.Core;

namespace OrleansInfer.Grains.Workers;

/// <summary>
/// The engines of this silo's accelerators, one per device, created by the host (which alone knows the
/// backends). Worker grains look theirs up by device ordinal.
/// </summary>
public interface IWorkerEngines
{
    /// <summary>The model id this silo serves (the router's key).</summary>
    string ModelId { get; }

    /// <summary>Device ordinals of the local accelerators.</summary>
    IReadOnlyList<int> Devices { get; }

    /// <summary>The engine of <paramref name="device"/>; throws when this silo has no such device.</summary>
    LlmEngine Get(int device);

    /// <summary>A description of the device ("CPU (2 threads, AVX-512)", "NVIDIA H100 ...").</summary>
    string Describe(int device);
}
