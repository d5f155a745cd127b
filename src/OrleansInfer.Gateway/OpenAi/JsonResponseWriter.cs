using System.Text.Json;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// Non-streaming responses: runs the job to its end (the client going away cancels it on the worker through
/// RequestAborted) and writes one text_completion or chat.completion object.
/// </summary>
internal static class JsonResponseWriter
{
    public static async Task WriteAsync(HttpContext context, GenerationJob job, IInferenceCluster cluster)
    {
        var outputs = new JobOutputs(job);
        await foreach (var (prompt, chunk) in job.RunAsync(cluster, context.RequestAborted).ConfigureAwait(false))
            outputs.Add(prompt, chunk);

        var tokenizer = job.Model.Tokenizer;
        var body = OpenAiJson.Write(w =>
        {
            w.WriteStartObject();
            WriteHeader(w, job, job.Chat ? "chat.completion" : "text_completion");
            w.WriteStartArray("choices");
            foreach (var choice in outputs.Choices)
            {
                w.WriteStartObject();
                w.WriteNumber("index", choice.Index);
                if (job.Chat)
                {
                    w.WriteStartObject("message");
                    w.WriteString("role", "assistant");
                    w.WriteString("content", choice.Text);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteString("text", choice.Text);
                }
                w.WritePropertyName("logprobs");
                if (job.Sampling.Logprobs is null) w.WriteNullValue();
                else if (job.Chat) ChoiceState.WriteChatLogprobs(w, tokenizer, choice.Logprobs);
                else ChoiceState.WriteCompletionLogprobs(w, tokenizer, choice.Logprobs, EchoLength(job, choice.Index));
                w.WriteString("finish_reason", JobOutputs.FinishOf(choice));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            outputs.Usage.Write(w);
            w.WriteEndObject();
        });
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>id, object, created, model: the head of every response and chunk.</summary>
    public static void WriteHeader(Utf8JsonWriter w, GenerationJob job, string type)
    {
        w.WriteString("id", job.Id);
        w.WriteString("object", type);
        w.WriteNumber("created", job.Created);
        w.WriteString("model", job.Model.Id);
    }

    private static int EchoLength(GenerationJob job, int choice) => job.Prompts[choice / job.Sampling.N].Echo?.Length ?? 0;
}
