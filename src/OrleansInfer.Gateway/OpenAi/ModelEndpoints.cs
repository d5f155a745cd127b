using System.Text.Json;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>GET /v1/models, GET /v1/models/{id}, and vLLM's POST /tokenize and /detokenize.</summary>
internal static class ModelEndpoints
{
    public static async Task ListAsync(HttpContext context)
    {
        var cluster = Cluster(context);
        var models = new List<(string Id, ServedModel? Model)>();
        foreach (var id in await cluster.ListModelsAsync(context.RequestAborted).ConfigureAwait(false))
        {
            ServedModel? model = null;
            try
            {
                model = await cluster.GetModelAsync(id, context.RequestAborted).ConfigureAwait(false);
            }
            catch (GatewayException)
            {
                // Registered but no worker answers now: listed without the details only a worker knows.
            }
            models.Add((id, model));
        }
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var (id, model) in models) WriteModel(w, id, model);
            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    public static async Task GetAsync(HttpContext context, string id)
    {
        var model = await Cluster(context).GetModelAsync(id, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, w => WriteModel(w, model.Id, model)).ConfigureAwait(false);
    }

    /// <summary>{model?, prompt, add_special_tokens?} or {model?, messages, add_generation_prompt?, ...} → {tokens, count, max_model_len}.</summary>
    public static async Task TokenizeAsync(HttpContext context)
    {
        var body = await OpenAiJson.ReadObjectAsync(context).ConfigureAwait(false);
        var model = await Cluster(context).GetModelAsync(OpenAiJson.String(body, "model"), context.RequestAborted).ConfigureAwait(false);
        int[] tokens;
        if (OpenAiJson.Value(body, "messages") is not null)
        {
            tokens = ChatInput.Parse(body).Encode(model).TokenIds;
        }
        else
        {
            var prompt = OpenAiJson.String(body, "prompt") ?? throw GatewayException.Invalid("prompt", "give 'prompt' (a string) or 'messages'");
            tokens = model.Tokenizer.Encode(prompt, addSpecial: OpenAiJson.Bool(body, "add_special_tokens") ?? true, parseSpecial: true);
        }
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("tokens");
            foreach (var t in tokens) w.WriteNumberValue(t);
            w.WriteEndArray();
            w.WriteNumber("count", tokens.Length);
            w.WriteNumber("max_model_len", model.ContextLength);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>{model?, tokens} → {prompt}.</summary>
    public static async Task DetokenizeAsync(HttpContext context)
    {
        var body = await OpenAiJson.ReadObjectAsync(context).ConfigureAwait(false);
        var model = await Cluster(context).GetModelAsync(OpenAiJson.String(body, "model"), context.RequestAborted).ConfigureAwait(false);
        var tokens = OpenAiJson.IntList(body, "tokens") ?? throw GatewayException.Invalid("tokens", "'tokens' is required");
        model.CheckTokenIds(tokens, "tokens");
        var text = model.Tokenizer.Decode(tokens);
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("prompt", text);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static void WriteModel(Utf8JsonWriter w, string id, ServedModel? model)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "model");
        w.WriteNumber("created", (model?.Created ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds());
        w.WriteString("owned_by", "orleans-infer");
        if (model is null) w.WriteNull("max_model_len");
        else w.WriteNumber("max_model_len", model.ContextLength);
        w.WriteEndObject();
    }

    private static IInferenceCluster Cluster(HttpContext context) => context.RequestServices.GetRequiredService<IInferenceCluster>();

    private static Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(OpenAiJson.Write(write), context.RequestAborted).AsTask();
    }
}
