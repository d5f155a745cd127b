using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Model.Chat;
using V1 = OrleansInfer.Contracts.V1;

namespace OrleansInfer.Gateway.Grpc;

/// <summary>
/// Protobuf to the cluster's wire types and back, field for field. Checks that need only the model (vocabulary,
/// context length) are made here, before a request takes a place in the queue; sampling values are checked by the
/// engine, which names the field.
/// </summary>
public static class ProtoMapping
{
    /// <summary>Every set field of <paramref name="p"/>; an unset one keeps <see cref="SamplingSpec"/>'s default.</summary>
    public static SamplingSpec ToSpec(V1.SamplingParams? p)
    {
        var spec = new SamplingSpec();
        if (p is null) return spec;
        return spec with
        {
            MaxTokens = p.HasMaxTokens ? p.MaxTokens : spec.MaxTokens,
            Temperature = p.HasTemperature ? p.Temperature : spec.Temperature,
            TopP = p.HasTopP ? p.TopP : spec.TopP,
            TopK = p.HasTopK ? p.TopK : spec.TopK,
            MinP = p.HasMinP ? p.MinP : spec.MinP,
            RepetitionPenalty = p.HasRepetitionPenalty ? p.RepetitionPenalty : spec.RepetitionPenalty,
            PresencePenalty = p.HasPresencePenalty ? p.PresencePenalty : spec.PresencePenalty,
            FrequencyPenalty = p.HasFrequencyPenalty ? p.FrequencyPenalty : spec.FrequencyPenalty,
            Seed = p.HasSeed ? p.Seed : spec.Seed,
            Stop = [.. p.Stop],
            StopTokenIds = [.. p.StopTokenIds],
            N = p.HasN ? p.N : spec.N,
            BestOf = p.HasBestOf ? p.BestOf : spec.BestOf,
            BeamWidth = p.HasBeamWidth ? p.BeamWidth : spec.BeamWidth,
            LengthPenalty = p.HasLengthPenalty ? p.LengthPenalty : spec.LengthPenalty,
            EarlyStopping = p.EarlyStopping,
            Logprobs = p.HasLogprobs ? p.Logprobs : spec.Logprobs,
            IgnoreEos = p.IgnoreEos,
        };
    }

    /// <summary>A request for the cluster: the caller's id or a new one.</summary>
    public static GenerateRequest ToRequest(string requestId, int[] prompt, V1.SamplingParams? sampling, int priority) => new()
    {
        RequestId = string.IsNullOrEmpty(requestId) ? $"grpc-{Guid.NewGuid():N}" : requestId,
        PromptTokens = prompt,
        Sampling = ToSpec(sampling),
        Priority = priority,
    };

    /// <summary>The prompt of a Generate call: text tokenized as llama.cpp's main does (BOS, special tokens parsed), or ids as given.</summary>
    public static int[] PromptOf(V1.GenerateRequest request, ServedModel model)
    {
        int[] ids;
        switch (request.InputCase)
        {
            case V1.GenerateRequest.InputOneofCase.Text when request.Text.Length > 0:
                ids = model.Tokenizer.Encode(request.Text, addSpecial: true, parseSpecial: true);
                break;
            case V1.GenerateRequest.InputOneofCase.TokenIds when request.TokenIds.Ids.Count > 0:
                ids = [.. request.TokenIds.Ids];
                model.CheckTokenIds(ids, "token_ids");
                break;
            default:
                throw GrpcErrors.Invalid("text", "the request has no input: set text or token_ids");
        }
        CheckContext(ids, model);
        return ids;
    }

    /// <summary>A prompt must leave room for at least one generated token (the engine would refuse it after queueing).</summary>
    public static void CheckContext(int[] prompt, ServedModel model)
    {
        if (prompt.Length >= model.ContextLength)
            throw GrpcErrors.Invalid("prompt", $"This model's maximum context length is {model.ContextLength} tokens, but the prompt has {prompt.Length} tokens");
    }

    /// <summary>The conversation as the chat template sees it.</summary>
    public static IReadOnlyList<ChatMessage> ToMessages(IEnumerable<V1.ChatMessage> messages)
    {
        var list = new List<ChatMessage>();
        foreach (var m in messages)
        {
            if (string.IsNullOrEmpty(m.Role)) throw GrpcErrors.Invalid("messages", $"message {list.Count} has no role");
            list.Add(new ChatMessage(m.Role, m.HasContent ? m.Content : null)
            {
                ToolCalls = m.ToolCalls.Count == 0 ? null : [.. m.ToolCalls.Select(c => new ChatToolCall(c.Id, c.Name, c.Arguments))],
                ToolCallId = NullIfEmpty(m.ToolCallId),
                Name = NullIfEmpty(m.Name),
            });
        }
        if (list.Count == 0) throw GrpcErrors.Invalid("messages", "the conversation has no messages");
        return list;
    }

    /// <summary>Render options: tools, add_generation_prompt (default true) and the extra variables (a JSON object).</summary>
    public static ChatRenderOptions ToRenderOptions(V1.ChatRequest request)
    {
        JsonObject? variables = null;
        if (!string.IsNullOrWhiteSpace(request.TemplateVariables))
        {
            try
            {
                variables = JsonNode.Parse(request.TemplateVariables) as JsonObject
                    ?? throw GrpcErrors.Invalid("template_variables", "must be a JSON object");
            }
            catch (JsonException e)
            {
                throw GrpcErrors.Invalid("template_variables", $"not valid JSON ({e.Message})");
            }
        }
        return new ChatRenderOptions
        {
            AddGenerationPrompt = !request.HasAddGenerationPrompt || request.AddGenerationPrompt,
            Tools = request.Tools.Count == 0 ? null : [.. request.Tools.Select(t => new ChatTool(t.Name, NullIfEmpty(t.Description), NullIfEmpty(t.Parameters)))],
            Variables = variables,
        };
    }

    /// <summary>
    /// The responses of one cluster chunk: its new tokens (when it has any) and, when an output ended, its Complete
    /// (the request's last one carries the usage). Heartbeats give none.
    /// </summary>
    public static IEnumerable<V1.GenerateResponse> ToResponses(TokenChunk chunk)
    {
        if (chunk.TokenIds.Length > 0 || chunk.Text.Length > 0)
        {
            var c = new V1.Chunk { Index = chunk.Index, Text = chunk.Text };
            c.TokenIds.Add(chunk.TokenIds);
            if (chunk.Logprobs is { } logprobs) c.Logprobs.Add(logprobs.Select(ToProto));
            yield return new V1.GenerateResponse { Chunk = c };
        }
        // Usage arrives with the request's last finish; a usage without a finish still ends the request for the caller.
        if (chunk.FinishReason is not null || chunk.Usage is not null)
        {
            var complete = new V1.Complete { Index = chunk.Index, FinishReason = chunk.FinishReason ?? "" };
            if (chunk.Usage is { } u) complete.Usage = new V1.Usage { PromptTokens = u.PromptTokens, CompletionTokens = u.CompletionTokens, CachedTokens = u.CachedPromptTokens };
            yield return new V1.GenerateResponse { Complete = complete };
        }
    }

    public static V1.TokenLogprob ToProto(TokenLogprobReport r)
    {
        var p = new V1.TokenLogprob { TokenId = r.TokenId, Logprob = r.Logprob };
        for (var i = 0; i < Math.Min(r.TopTokenIds.Length, r.TopLogprobs.Length); i++)
            p.Top.Add(new V1.TopLogprob { TokenId = r.TopTokenIds[i], Logprob = r.TopLogprobs[i] });
        return p;
    }

    public static V1.WorkerStatus ToProto(WorkerLoad w) => new()
    {
        Key = w.WorkerKey,
        Model = w.ModelId,
        Device = w.Device,
        KvTotalBlocks = w.TotalBlocks,
        KvFreeBlocks = w.FreeBlocks,
        Running = w.RunningRequests,
        Waiting = w.WaitingRequests,
        Healthy = w.Healthy,
    };

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
