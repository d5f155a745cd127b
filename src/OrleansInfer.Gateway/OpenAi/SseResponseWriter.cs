using System.Text;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// Streaming responses as server-sent events: <c>data: {chunk}</c> per piece of output (chat starts each choice with
/// a role delta), a usage chunk with no choices when stream_options.include_usage asks, then <c>data: [DONE]</c>.
/// The response starts only with the first chunk or keep-alive, so a refusal that comes at once (overload, a bad
/// parameter the worker finds) is still a proper HTTP error; a failure after that is one error event, then the end.
/// </summary>
internal static class SseResponseWriter
{
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static async Task WriteAsync(HttpContext context, GenerationJob job, IInferenceCluster cluster, TimeSpan keepAliveInterval, ILogger logger)
    {
        var aborted = context.RequestAborted;
        var outputs = new JobOutputs(job);
        var started = false;
        var produced = false;
        Task<bool>? pending = null;
        await using var chunks = job.RunAsync(cluster, aborted).GetAsyncEnumerator(aborted);
        try
        {
            while (true)
            {
                var next = chunks.MoveNextAsync();
                if (!produced && !next.IsCompleted)
                {
                    // Waiting for the first token (queued, or prefilling): comments keep proxies from closing the connection.
                    pending = next.AsTask();
                    while (await Task.WhenAny(pending, Task.Delay(keepAliveInterval, aborted)).ConfigureAwait(false) != pending)
                    {
                        aborted.ThrowIfCancellationRequested();
                        if (!started) started = await StartAsync(context, job).ConfigureAwait(false);
                        await SendAsync(context, KeepAlive).ConfigureAwait(false);
                    }
                    next = new ValueTask<bool>(pending);
                    pending = null;
                }
                if (!await next.ConfigureAwait(false)) break;
                if (!started) started = await StartAsync(context, job).ConfigureAwait(false);
                produced = true;
                var (prompt, chunk) = chunks.Current;
                var (choice, text, offset) = outputs.Add(prompt, chunk);
                // A chunk whose text is held back (a partial character, a possible stop string) and that ends nothing is not sent.
                if (text.Length == 0 && chunk.FinishReason is null && chunk.Logprobs is not { Length: > 0 }) continue;
                await SendAsync(context, Event(ChunkJson(job, choice.Index, text, offset, chunk))).ConfigureAwait(false);
            }

            if (!started) started = await StartAsync(context, job).ConfigureAwait(false);
            if (job.Streaming.IncludeUsage)
            {
                await SendAsync(context, Event(OpenAiJson.Write(w =>
                {
                    w.WriteStartObject();
                    JsonResponseWriter.WriteHeader(w, job, job.Chat ? "chat.completion.chunk" : "text_completion");
                    w.WriteStartArray("choices");
                    w.WriteEndArray();
                    outputs.Usage.Write(w);
                    w.WriteEndObject();
                }))).ConfigureAwait(false);
            }
            await SendAsync(context, Done).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: disposing the enumerator ended the request on its worker.
        }
        catch (Exception e) when (started)
        {
            var (status, message, param, code) = OpenAiEndpoints.Describe(e, logger);
            try
            {
                await SendAsync(context, Event(Encoding.UTF8.GetBytes(OpenAiError.Body(status, message, param, code)))).ConfigureAwait(false);
            }
            catch (Exception) when (aborted.IsCancellationRequested)
            {
                // Gone while being told.
            }
        }
        finally
        {
            // An async enumerator cannot be disposed while a MoveNextAsync is in flight: let the cancelled one finish first.
            if (pending is not null)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Cancelled with the request.
                }
            }
        }
    }

    /// <summary>Starts the event stream (headers out); returns true.</summary>
    private static async Task<bool> StartAsync(HttpContext context, GenerationJob job)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        // nginx buffers responses unless told not to; a stream must reach the client as it is written.
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        if (job.Chat)
        {
            foreach (var index in Enumerable.Range(0, job.ChoiceCount))
                await SendAsync(context, Event(RoleJson(job, index))).ConfigureAwait(false);
        }
        return true;
    }

    private static byte[] RoleJson(GenerationJob job, int index) => OpenAiJson.Write(w =>
    {
        w.WriteStartObject();
        JsonResponseWriter.WriteHeader(w, job, "chat.completion.chunk");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        w.WriteString("role", "assistant");
        w.WriteString("content", "");
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteNull("finish_reason");
        w.WriteEndObject();
        w.WriteEndArray();
        // OpenAI: with include_usage every chunk but the last carries "usage": null.
        if (job.Streaming.IncludeUsage) w.WriteNull("usage");
        w.WriteEndObject();
    });

    private static byte[] ChunkJson(GenerationJob job, int index, string text, int offset, Abstractions.TokenChunk chunk) => OpenAiJson.Write(w =>
    {
        w.WriteStartObject();
        JsonResponseWriter.WriteHeader(w, job, job.Chat ? "chat.completion.chunk" : "text_completion");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        if (job.Chat)
        {
            w.WriteStartObject("delta");
            if (text.Length > 0) w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text);
        }
        w.WritePropertyName("logprobs");
        var tokenizer = job.Model.Tokenizer;
        if (job.Sampling.Logprobs is null) w.WriteNullValue();
        else if (job.Chat) ChoiceState.WriteChatLogprobs(w, tokenizer, chunk.Logprobs ?? []);
        else ChoiceState.WriteCompletionLogprobs(w, tokenizer, chunk.Logprobs ?? [], offset);
        if (chunk.FinishReason is null) w.WriteNull("finish_reason");
        else w.WriteString("finish_reason", chunk.FinishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        // OpenAI: with include_usage every chunk but the last carries "usage": null.
        if (job.Streaming.IncludeUsage) w.WriteNull("usage");
        w.WriteEndObject();
    });

    private static byte[] Event(byte[] json)
    {
        var bytes = new byte[json.Length + 8];
        "data: "u8.CopyTo(bytes);
        json.CopyTo(bytes, 6);
        bytes[^2] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static async Task SendAsync(HttpContext context, byte[] bytes)
    {
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
