using Grpc.Core;
using Grpc.Net.Client;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Model.Chat;
using OrleansInfer.Testing;
using static OrleansInfer.Gateway.Tests.Grpc.GrpcTestKit;
using ChatMessage = OrleansInfer.Contracts.V1.ChatMessage;

namespace OrleansInfer.Gateway.Tests.Grpc;

/// <summary>A gateway whose model is served with the Q/A test template.</summary>
public sealed class ChatServerFixture : IAsyncLifetime
{
    private readonly string _templateFile = TestChatTemplates.WriteFile(TestChatTemplates.QuestionAnswer);

    public GatewayServer Server { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public Contracts.V1.Inference.InferenceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await GatewayServer.StartAsync(configureSilo: o => o.ChatTemplate = _templateFile);
        Channel = GrpcChannel.ForAddress(Server.GrpcAddress);
        Client = new Contracts.V1.Inference.InferenceClient(Channel);
    }

    public async Task DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
        File.Delete(_templateFile);
    }
}

/// <summary>Chat over gRPC: the served template renders the conversation, and its refusals are INVALID_ARGUMENT.</summary>
public sealed class GrpcChatTests(ChatServerFixture fixture) : IClassFixture<ChatServerFixture>
{
    private Contracts.V1.Inference.InferenceClient Client => fixture.Client;

    private static ChatRequest Conversation(params (string Role, string Content)[] messages)
    {
        var request = new ChatRequest { Sampling = Greedy(24) };
        foreach (var (role, content) in messages) request.Messages.Add(new ChatMessage { Role = role, Content = content });
        return request;
    }

    [Fact]
    public async Task ChatEqualsGeneratingFromTheRenderedPrompt()
    {
        var chat = await ReadAllAsync(Client.Chat(Conversation(("system", "Stories for kids."), ("user", "Tell me about a cat."))));

        // The same conversation rendered here with the same template, then generated from its token ids.
        var model = await fixture.Server.Cluster.GetModelAsync(null, CancellationToken.None);
        var template = ChatTemplate.For(model.Tokenizer.Vocabulary, model.Id, TestChatTemplates.QuestionAnswer);
        var prompt = template.Encode(model.Tokenizer, [Model.Chat.ChatMessage.System("Stories for kids."), Model.Chat.ChatMessage.User("Tell me about a cat.")]);
        Assert.EndsWith("Q: Tell me about a cat.\nA:", prompt.Text);
        var request = new GenerateRequest { TokenIds = new TokenIds(), Sampling = Greedy(24) };
        request.TokenIds.Ids.Add(prompt.TokenIds);
        var generated = await ReadAllAsync(Client.Generate(request));

        Assert.NotEmpty(TokensOf(chat));
        Assert.Equal(TokensOf(generated), TokensOf(chat));
        Assert.Equal(TextOf(generated), TextOf(chat));
        Assert.Equal(prompt.TokenIds.Length, CompletesOf(chat)[^1].Usage.PromptTokens);

        var listed = Assert.Single((await Client.ListModelsAsync(new ListModelsRequest())).Models);
        Assert.True(listed.HasChatTemplate);
        await fixture.Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task WithoutTheGenerationPromptTheTemplateLeavesItOut()
    {
        var with = Conversation(("user", "Hi"));
        var without = Conversation(("user", "Hi"));
        without.AddGenerationPrompt = false;
        without.Sampling.MaxTokens = 1;
        with.Sampling.MaxTokens = 1;
        var a = CompletesOf(await ReadAllAsync(Client.Chat(with)))[^1].Usage.PromptTokens;
        var b = CompletesOf(await ReadAllAsync(Client.Chat(without)))[^1].Usage.PromptTokens;
        Assert.True(a > b, $"expected 'A:' to add tokens: {a} vs {b}");
    }

    [Fact]
    public async Task ATemplateRefusalIsAnInvalidArgumentWithItsMessage()
    {
        var e = await FailureOf(() => ReadAllAsync(Client.Chat(Conversation(("robot", "beep")))));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("messages: unexpected role robot", e.Status.Detail);

        var variables = Conversation(("user", "Hi"));
        variables.TemplateVariables = "[1, 2]";
        e = await FailureOf(() => ReadAllAsync(Client.Chat(variables)));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("template_variables: ", e.Status.Detail);

        e = await FailureOf(() => ReadAllAsync(Client.Chat(new ChatRequest())));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("messages: ", e.Status.Detail);
    }
}
