using Grpc.Core;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.Telemetry;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Gateway.Grpc;

/// <summary>
/// <c>orleansinfer.v1.Inference</c>: a thin mapping of protobuf onto <see cref="IInferenceCluster"/>. Generation
/// streams every cluster chunk as it arrives; the call's cancellation token (client gone, deadline) is the request's,
/// so the worker frees its blocks. Failures leave as status codes (<see cref="GrpcErrors"/>). Generate and Chat are
/// observed (<see cref="GenAiRequest"/>) as <c>text_completion</c> and <c>chat</c>.
/// </summary>
public sealed class InferenceService(IInferenceCluster cluster, GenAiTelemetry telemetry, ILogger<InferenceService> logger) : Contracts.V1.Inference.InferenceBase
{
    public override Task Generate(Contracts.V1.GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context) =>
        ObservedAsync(context, GenAi.TextCompletion, async (observed, ct) =>
        {
            var model = await observed.ModelAsync(cluster, request.Model, ct);
            var prompt = ProtoMapping.PromptOf(request, model);
            await StreamAsync(observed, model, ProtoMapping.ToRequest(request.RequestId, prompt, request.Sampling, request.Priority), responseStream, ct);
        });

    public override Task Chat(ChatRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context) =>
        ObservedAsync(context, GenAi.Chat, async (observed, ct) =>
        {
            var model = await observed.ModelAsync(cluster, request.Model, ct);
            var template = model.RequireChatTemplate();
            var messages = ProtoMapping.ToMessages(request.Messages);
            var options = ProtoMapping.ToRenderOptions(request);
            int[] prompt;
            try
            {
                prompt = template.Encode(model.Tokenizer, messages, options).TokenIds;
            }
            catch (TemplateException e)
            {
                throw GrpcErrors.FromTemplate(e);
            }
            catch (ArgumentException e)
            {
                // The conversation itself is malformed (tool call arguments that are not a JSON object, a reserved variable).
                throw GrpcErrors.Invalid("messages", GrpcErrors.MessageOf(e));
            }
            ProtoMapping.CheckContext(prompt, model);
            await StreamAsync(observed, model, ProtoMapping.ToRequest(request.RequestId, prompt, request.Sampling, request.Priority), responseStream, ct);
        });

    public override Task<TokenizeResponse> Tokenize(TokenizeRequest request, ServerCallContext context) =>
        GuardAsync(context, async ct =>
        {
            var model = await cluster.GetModelAsync(request.Model, ct);
            // Special tokens written in the text are recognised, as Generate's text input does.
            var ids = model.Tokenizer.Encode(request.Text, addSpecial: !request.HasAddSpecialTokens || request.AddSpecialTokens, parseSpecial: true);
            var response = new TokenizeResponse { Count = ids.Length, MaxModelLen = model.ContextLength };
            response.TokenIds.Add(ids);
            return response;
        });

    public override Task<DetokenizeResponse> Detokenize(DetokenizeRequest request, ServerCallContext context) =>
        GuardAsync(context, async ct =>
        {
            var model = await cluster.GetModelAsync(request.Model, ct);
            int[] ids = [.. request.TokenIds];
            model.CheckTokenIds(ids, "token_ids");
            return new DetokenizeResponse { Text = model.Tokenizer.Decode(ids) };
        });

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        GuardAsync(context, async ct =>
        {
            var response = new ListModelsResponse();
            foreach (var id in await cluster.ListModelsAsync(ct))
            {
                try
                {
                    var model = await cluster.GetModelAsync(id, ct);
                    response.Models.Add(new ModelInfo { Id = id, MaxModelLen = model.ContextLength, HasChatTemplate = model.ChatTemplate is not null });
                }
                catch (GatewayException e) when (e.Kind == GatewayErrorKind.Unavailable)
                {
                    // Registered but no worker answers right now: still listed, its details unknown (0) until one does.
                    response.Models.Add(new ModelInfo { Id = id });
                }
            }
            return response;
        });

    public override Task<ClusterStatus> GetClusterStatus(GetClusterStatusRequest request, ServerCallContext context) =>
        GuardAsync(context, async ct =>
        {
            var status = new ClusterStatus();
            status.Workers.Add((await cluster.GetWorkersAsync(request.Model, ct)).Select(ProtoMapping.ToProto));
            return status;
        });

    private async Task StreamAsync(GenAiRequest observed, ServedModel model, Abstractions.GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, CancellationToken ct)
    {
        await foreach (var chunk in observed.GenerateAsync(cluster, model, request, ct).WithCancellation(ct))
        {
            foreach (var response in ProtoMapping.ToResponses(chunk))
                await responseStream.WriteAsync(response, ct);
        }
    }

    /// <summary>A generation call under <see cref="GuardAsync{T}"/>, observed from its arrival to its status.</summary>
    private async Task ObservedAsync(ServerCallContext context, string operation, Func<GenAiRequest, CancellationToken, Task> call)
    {
        using var observed = telemetry.Start(operation, e => e is OperationCanceledException && AtDeadline(context) ? GrpcErrors.NameOf(StatusCode.DeadlineExceeded) : GrpcErrors.ErrorTypeOf(e));
        try
        {
            await GuardAsync(context, ct => call(observed, ct));
        }
        catch (Exception e)
        {
            observed.Fail(e);
            throw;
        }
    }

    /// <summary>
    /// Whether a cancelled call ended at its deadline: the client gives up at its own deadline, which the server's
    /// (the timeout counted from the call's arrival) follows by the call's latency, so the client's cancel comes first.
    /// </summary>
    private static bool AtDeadline(ServerCallContext context) =>
        context.Deadline != DateTime.MaxValue && DateTime.UtcNow >= context.Deadline - TimeSpan.FromSeconds(1);

    private Task GuardAsync(ServerCallContext context, Func<CancellationToken, Task> call) =>
        GuardAsync(context, async ct =>
        {
            await call(ct);
            return true;
        });

    /// <summary>
    /// Runs a call with the gateway's error mapping: GatewayException to its status, cancellation by the caller to
    /// CANCELLED (the deadline's status is written by gRPC itself), anything unexpected to INTERNAL with a one-line
    /// message; the details go to the log only.
    /// </summary>
    private async Task<T> GuardAsync<T>(ServerCallContext context, Func<CancellationToken, Task<T>> call)
    {
        var ct = context.CancellationToken;
        try
        {
            return await call(ct);
        }
        catch (GatewayException e)
        {
            if (e.Kind == GatewayErrorKind.Internal) logger.LogError(e, "gRPC {Method} failed", context.Method);
            throw GrpcErrors.ToRpc(e);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }
        catch (Exception e) when (e is not RpcException)
        {
            logger.LogError(e, "gRPC {Method} failed", context.Method);
            throw new RpcException(new Status(StatusCode.Internal, $"internal error: {e.GetType().Name}"));
        }
    }
}
