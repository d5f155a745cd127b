using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.Telemetry;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// POST /v1/completions and /v1/chat/completions: parse, resolve the model, tokenize, check the context, then answer
/// as one JSON object or as server-sent events. Each call is observed (<see cref="GenAiRequest"/>) from its arrival
/// to the end of its response.
/// </summary>
internal static class GenerationEndpoints
{
    /// <summary>
    /// Runs a generation handler under <see cref="OpenAiEndpoints.GuardAsync"/>, observed as <paramref name="operation"/>:
    /// a failure is noted before it becomes OpenAI's error response (an SSE stream's late failure is noted as the
    /// generation fails), and the observation ends when the response has.
    /// </summary>
    public static async Task ObservedAsync(HttpContext context, string operation, Func<HttpContext, GenAiRequest, Task> handler)
    {
        using var observed = context.RequestServices.GetRequiredService<GenAiTelemetry>().Start(operation, OpenAiError.ErrorTypeOf);
        await OpenAiEndpoints.GuardAsync(context, async c =>
        {
            try
            {
                await handler(c, observed).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                observed.Fail(e);
                throw;
            }
        }).ConfigureAwait(false);
    }

    public static async Task CompletionsAsync(HttpContext context, GenAiRequest observed)
    {
        var request = CompletionRequest.Parse(await OpenAiJson.ReadObjectAsync(context).ConfigureAwait(false));
        var cluster = context.RequestServices.GetRequiredService<IInferenceCluster>();
        var model = await observed.ModelAsync(cluster, request.Model, context.RequestAborted).ConfigureAwait(false);
        var tokenizer = model.Tokenizer;
        var prompts = new List<JobPrompt>();
        var specs = new List<Abstractions.SamplingSpec>();
        foreach (var p in request.Prompts)
        {
            int[] ids;
            if (p.TokenIds is { } given)
            {
                if (given.Length == 0) throw GatewayException.Invalid("prompt", "a token-id prompt must not be empty");
                model.CheckTokenIds(given, "prompt");
                ids = given;
            }
            else
            {
                ids = tokenizer.Encode(p.Text!, addSpecial: true, parseSpecial: true);
                if (ids.Length == 0) throw GatewayException.Invalid("prompt", "the prompt has no tokens");
            }
            // Each prompt runs as its own request; without max_tokens each may fill the context it leaves.
            specs.Add(request.Sampling.ToSpec(ids.Length, model.ContextLength, "prompt"));
            prompts.Add(new JobPrompt(ids, request.Echo ? p.Text ?? tokenizer.Decode(ids) : null));
        }
        var job = new GenerationJob(model, $"cmpl-{Guid.NewGuid():N}", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Chat: false, prompts, specs[0], request.Sampling.Priority, request.Streaming)
        {
            PromptSampling = specs,
            Telemetry = observed,
        };
        await RespondAsync(context, job, cluster).ConfigureAwait(false);
    }

    public static async Task ChatAsync(HttpContext context, GenAiRequest observed)
    {
        var request = ChatRequest.Parse(await OpenAiJson.ReadObjectAsync(context).ConfigureAwait(false));
        var cluster = context.RequestServices.GetRequiredService<IInferenceCluster>();
        var model = await observed.ModelAsync(cluster, request.Model, context.RequestAborted).ConfigureAwait(false);
        var prompt = request.Input.Encode(model);
        if (prompt.TokenIds.Length == 0) throw GatewayException.Invalid("messages", "the rendered conversation has no tokens");
        var spec = request.Sampling.ToSpec(prompt.TokenIds.Length, model.ContextLength, "messages");
        var job = new GenerationJob(model, $"chatcmpl-{Guid.NewGuid():N}", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Chat: true,
            [new JobPrompt(prompt.TokenIds, null)], spec, request.Sampling.Priority, request.Streaming)
        {
            Telemetry = observed,
        };
        await RespondAsync(context, job, cluster).ConfigureAwait(false);
    }

    private static Task RespondAsync(HttpContext context, GenerationJob job, IInferenceCluster cluster)
    {
        if (!job.Streaming.Stream) return JsonResponseWriter.WriteAsync(context, job, cluster);
        var options = context.RequestServices.GetRequiredService<GatewayOptions>();
        return SseResponseWriter.WriteAsync(context, job, cluster, options.KeepAliveInterval, OpenAiEndpoints.Logger(context));
    }
}
