using OrleansInfer.Testing;

namespace OrleansInfer.Sdk.Tests;

/// <summary>Template files for the chat tests, removed when the class is done.</summary>
public sealed class ChatFixture : IDisposable
{
    public string QuestionAnswer { get; } = TestChatTemplates.WriteFile(TestChatTemplates.QuestionAnswer);

    public string EchoContext { get; } = TestChatTemplates.WriteFile(TestChatTemplates.EchoContext);

    public static Task<InferenceEngine> Load(string? template, InferenceEngineOptions? options = null) =>
        InferenceEngine.LoadAsync(SharedData.Stories260KGguf, (options ?? new InferenceEngineOptions()) with { Threads = 2, ChatTemplatePath = template });

    /// <summary>Every KV block is free once the engine is idle (its snapshot is published before idle completes).</summary>
    public static async Task AssertAllBlocksFree(InferenceEngine engine)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await engine.Engine.WhenIdleAsync(timeout.Token), "expected the engine to become idle within 30 s");
        Assert.True(engine.KvCache.FreeBlocks == engine.KvCache.TotalBlocks, $"expected all {engine.KvCache.TotalBlocks} KV blocks free, {engine.KvCache.FreeBlocks} are");
    }

    public void Dispose()
    {
        File.Delete(QuestionAnswer);
        File.Delete(EchoContext);
    }
}
