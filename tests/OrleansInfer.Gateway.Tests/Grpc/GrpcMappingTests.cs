using Grpc.Core;
using OrleansInfer.Abstractions;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Gateway.Grpc;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Templates;
using OrleansInfer.Testing;

namespace OrleansInfer.Gateway.Tests.Grpc;

/// <summary>The protobuf mapping and the status of each error kind, without a server.</summary>
public sealed class GrpcMappingTests
{
    [Fact]
    public void UnsetSamplingFieldsKeepTheEngineDefaults()
    {
        Assert.Equal(new SamplingSpec(), ProtoMapping.ToSpec(null));
        var spec = ProtoMapping.ToSpec(new SamplingParams());
        Assert.Equal(new SamplingSpec().MaxTokens, spec.MaxTokens);
        Assert.Equal(1f, spec.Temperature);
        Assert.Equal(1f, spec.TopP);
        Assert.Equal(1, spec.N);
        Assert.Null(spec.Seed);
        Assert.Null(spec.BestOf);
        Assert.Null(spec.Logprobs);
        Assert.Empty(spec.Stop);
    }

    [Fact]
    public void SetSamplingFieldsAreCopied()
    {
        var p = new SamplingParams
        {
            MaxTokens = 7, Temperature = 0, TopP = 0.5f, TopK = 3, MinP = 0.1f, RepetitionPenalty = 1.2f, PresencePenalty = 0.3f,
            FrequencyPenalty = 0.4f, Seed = 99, N = 2, BestOf = 4, BeamWidth = 0, LengthPenalty = 0.8f, EarlyStopping = true, Logprobs = 0, IgnoreEos = true,
        };
        p.Stop.Add("\n");
        p.StopTokenIds.Add(13);
        var spec = ProtoMapping.ToSpec(p);
        Assert.Equal(new SamplingSpec
        {
            MaxTokens = 7, Temperature = 0, TopP = 0.5f, TopK = 3, MinP = 0.1f, RepetitionPenalty = 1.2f, PresencePenalty = 0.3f,
            FrequencyPenalty = 0.4f, Seed = 99, N = 2, BestOf = 4, BeamWidth = 0, LengthPenalty = 0.8f, EarlyStopping = true, Logprobs = 0, IgnoreEos = true,
            Stop = spec.Stop, StopTokenIds = spec.StopTokenIds,
        }, spec);
        Assert.Equal(["\n"], spec.Stop);
        Assert.Equal([13], spec.StopTokenIds);
        Assert.False(string.IsNullOrEmpty(ProtoMapping.ToRequest("", [1], null, 0).RequestId));
        Assert.Equal("mine", ProtoMapping.ToRequest("mine", [1], null, 3).RequestId);
    }

    [Fact]
    public void AFinishingChunkGivesItsTokensThenItsComplete()
    {
        var chunk = new TokenChunk
        {
            Index = 1, TokenIds = [5], Text = "a", FinishReason = "stop", Usage = new UsageReport(4, 9, 2),
            Logprobs = [new TokenLogprobReport(5, -0.5f, [5, 6], [-0.5f, -1.5f])],
        };
        var responses = ProtoMapping.ToResponses(chunk).ToList();
        Assert.Equal(2, responses.Count);
        Assert.Equal(1, responses[0].Chunk.Index);
        Assert.Equal([6], responses[0].Chunk.Logprobs[0].Top.Skip(1).Select(t => t.TokenId));
        Assert.Equal(new Complete { Index = 1, FinishReason = "stop", Usage = new Usage { PromptTokens = 4, CompletionTokens = 9, CachedTokens = 2 } }, responses[1].Complete);
        Assert.Empty(ProtoMapping.ToResponses(new TokenChunk()));
    }

    [Theory]
    [InlineData(GatewayErrorKind.NotSupported, StatusCode.Unimplemented)]
    [InlineData(GatewayErrorKind.NotFound, StatusCode.NotFound)]
    [InlineData(GatewayErrorKind.Unavailable, StatusCode.Unavailable)]
    [InlineData(GatewayErrorKind.Timeout, StatusCode.DeadlineExceeded)]
    [InlineData(GatewayErrorKind.Internal, StatusCode.Internal)]
    [InlineData(GatewayErrorKind.Overloaded, StatusCode.ResourceExhausted)]
    public void EachKindHasItsStatus(GatewayErrorKind kind, StatusCode status)
    {
        var e = GrpcErrors.ToRpc(new GatewayException(kind, "why", inner: new InvalidOperationException("secret")));
        Assert.Equal(status, e.StatusCode);
        Assert.Equal("why", e.Status.Detail);
        Assert.Equal(kind == GatewayErrorKind.Overloaded ? "1000" : null, e.Trailers.GetValue(GrpcErrors.RetryAfterTrailer));
    }

    [Fact]
    public void InvalidArgumentsNameTheirFieldOnceAndRetryAfterTravels()
    {
        Assert.Equal("max_tokens: too many", GrpcErrors.ToRpc(GatewayException.Invalid("max_tokens", "too many")).Status.Detail);
        Assert.Equal("max_tokens: too many", GrpcErrors.ToRpc(GatewayException.Invalid("max_tokens", "max_tokens: too many")).Status.Detail);
        var unavailable = GrpcErrors.ToRpc(new GatewayException(GatewayErrorKind.Unavailable, "no workers", retryAfter: TimeSpan.FromMilliseconds(250)));
        Assert.Equal("250", unavailable.Trailers.GetValue(GrpcErrors.RetryAfterTrailer));
    }

    [Fact]
    public void TheConversationReachesTheTemplateWithToolsAndVariables()
    {
        var request = new ChatRequest { AddGenerationPrompt = false, TemplateVariables = """{"enable_thinking": false}""" };
        request.Messages.Add(new Contracts.V1.ChatMessage { Role = "user", Content = "weather?" });
        var call = new Contracts.V1.ChatMessage { Role = "assistant" };
        call.ToolCalls.Add(new ToolCall { Id = "c1", Name = "get_weather", Arguments = """{"city": "Paris"}""" });
        request.Messages.Add(call);
        request.Messages.Add(new Contracts.V1.ChatMessage { Role = "tool", Content = "sunny", ToolCallId = "c1" });
        request.Tools.Add(new Tool { Name = "get_weather", Description = "Weather of a city", Parameters = """{"type": "object"}""" });

        var options = ProtoMapping.ToRenderOptions(request);
        Assert.False(options.AddGenerationPrompt);
        Assert.False(options.Variables!["enable_thinking"]!.GetValue<bool>());
        var template = new ChatTemplate(TestChatTemplates.EchoContext, "<s>", "</s>");
        var echo = Assert.Throws<TemplateRaisedException>(() => template.Render(ProtoMapping.ToMessages(request.Messages), options)).Message;
        Assert.Contains("\"get_weather\"", echo);
        Assert.Contains("\"city\":\"Paris\"", echo.Replace(" ", ""));
        Assert.Contains("\"tool_call_id\":\"c1\"", echo.Replace(" ", ""));
        Assert.Contains("\"add_generation_prompt\":false", echo.Replace(" ", ""));
        // Unset content stays null (not ""), as OpenAI's assistant tool-call turns have it.
        Assert.Contains("\"content\":null", echo.Replace(" ", ""));
    }
}
