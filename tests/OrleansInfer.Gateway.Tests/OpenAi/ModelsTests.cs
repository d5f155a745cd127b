using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>GET /v1/models (raw and through the client), /tokenize and /detokenize.</summary>
public sealed class ModelsTests(OpenAiServerFixture fixture) : IClassFixture<OpenAiServerFixture>
{
    private GatewayServer Server => fixture.Server;

    [Fact]
    public async Task ModelsAreListedInOpenAisShape()
    {
        using var http = OpenAiKit.Http(Server);
        var list = await http.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal("list", list.GetProperty("object").GetString());
        var model = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal("stories260K", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal("orleans-infer", model.GetProperty("owned_by").GetString());
        var context = (await Server.Cluster.GetModelAsync(null, CancellationToken.None)).ContextLength;
        Assert.Equal(context, model.GetProperty("max_model_len").GetInt32());
        Assert.Equal(context, (await http.GetFromJsonAsync<JsonElement>("/v1/models/stories260K")).GetProperty("max_model_len").GetInt32());

        var client = OpenAiKit.Client(Server).GetOpenAIModelClient();
        var models = (await client.GetModelsAsync()).Value;
        Assert.Equal("stories260K", Assert.Single(models).Id);
        Assert.Equal("orleans-infer", (await client.GetModelAsync("stories260K")).Value.OwnedBy);
    }

    [Fact]
    public async Task TokenizeAndDetokenizeRoundTrip()
    {
        using var http = OpenAiKit.Http(Server);
        var c = Testing.SharedData.Reference.Cases[0];
        var (_, tokens) = await OpenAiKit.PostAsync(http, "/tokenize", new { model = "stories260K", prompt = c.Prompt });
        Assert.Equal(c.PromptTokenIds, tokens.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal(c.PromptTokenIds.Length, tokens.GetProperty("count").GetInt32());
        Assert.True(tokens.GetProperty("max_model_len").GetInt32() > 0);
        var (_, text) = await OpenAiKit.PostAsync(http, "/detokenize", new { tokens = c.PromptTokenIds });
        Assert.Equal(c.Prompt, text.GetProperty("prompt").GetString());
        await OpenAiKit.AssertErrorAsync(http, "/detokenize", new { tokens = "abc" }, 400, "tokens");
        var (_, chat) = await OpenAiKit.PostAsync(http, "/tokenize", new { messages = new[] { new { role = "user", content = "Hi" } }, add_generation_prompt = false });
        var (_, rendered) = await OpenAiKit.PostAsync(http, "/detokenize", new { tokens = chat.GetProperty("tokens") });
        Assert.Equal("Q: Hi\n", rendered.GetProperty("prompt").GetString());
    }
}
