namespace OrleansInfer.Gateway;

/// <summary>Whether the gateway is draining (stopping): readiness and gRPC health then say NOT_SERVING.</summary>
public sealed class GatewayState
{
    private volatile bool _draining;

    public bool Draining => _draining;

    public void BeginDraining() => _draining = true;
}
