namespace OrleansInfer.Gateway.Grpc;

/// <summary>Maps the gRPC services (orleansinfer.v1.Inference) onto the app.</summary>
public static class GrpcEndpoints
{
    public static void MapInferenceGrpc(this IEndpointRouteBuilder app)
    {
        app.MapGrpcService<InferenceService>();
    }
}
