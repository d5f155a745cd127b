using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// POST /v1/completions and /v1/chat/completions: parse, resolve the model, tokenize, check the context, then answer
/// as one JSON object or as server-sent events.
/// </summary>
internal static class GenerationEndpoints
{
    public static async Task CompletionsAsync(HttpContext context)
    {
        var request = CompletionRequest.Parse(await OpenAiJson.ReadObjectAsync(context).ConfigureAwait(false));
        var cluster = context.RequestServices.GetRequiredService<IInferenceCluster>();
        var model = await cluster.GetModelAsync(request.Model, context.RequestAborted).ConfigureAwait(false);
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
        };
        await RespondAsync(context, job, cluster).ConfigureAwait(false);
    }

    public static async Task ChatAsync(HttpContext context)
    {
        var request = ChatRequest.Parse(await OpenAiJson.ReadObjectAsync(context).ConfigureAwait(false));
        var cluster = context.RequestServices.GetRequiredService<IInferenceCluster>();
        var model = await cluster.GetModelAsync(request.Model, context.RequestAborted).ConfigureAwait(false);
        var prompt = request.Input.Encode(model);
        if (prompt.TokenIds.Length == 0) throw GatewayException.Invalid("messages", "the rendered conversation has no tokens");
        var spec = request.Sampling.ToSpec(prompt.TokenIds.Length, model.ContextLength, "messages");
        var job = new GenerationJob(model, $"chatcmpl-{Guid.NewGuid():N}", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Chat: true,
            [new JobPrompt(prompt.TokenIds, null)], spec, request.Sampling.Priority, request.Streaming);
        await RespondAsync(context, job, cluster).ConfigureAwait(false);
    }

    private static Task RespondAsync(HttpContext context, GenerationJob job, IInferenceCluster cluster)
    {
        if (!job.Streaming.Stream) return JsonResponseWriter.WriteAsync(context, job, cluster);
        var options = context.RequestServices.GetRequiredService<GatewayOptions>();
        return SseResponseWriter.WriteAsync(context, job, cluster, options.KeepAliveInterval, OpenAiEndpoints.Logger(context));
    }
}
