using OrleansInfer.Client;
using OrleansInfer.Grains.Mapping;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>A silo's --chat-template reaches its workers' vocabulary and, over the wire, the clients that render chats.</summary>
public sealed class ChatTemplateServingTests
{
    [Fact]
    public async Task TheSilosTemplateTravelsWithTheVocabulary()
    {
        const string source = "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}";
        var path = TestChatTemplates.WriteFile(source);
        try
        {
            var options = new SiloOptions { Model = SharedData.Stories260KGguf, Backend = "cpu", CpuWorkers = 1, Threads = 1, KvBlocks = 8, ChatTemplate = path };
            await using var engines = new WorkerEngines(options);
            var served = engines.Get(0).Tokenizer.Vocabulary;
            Assert.Equal(source, served.ChatTemplate);

            var received = ClusterModels.FromWire(VocabularyMapping.ToWire(served));
            Assert.Equal(source, received.ChatTemplate);
            Assert.Equal(served.Tokens, received.Tokens);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task WithoutOneTheModelsOwnIsServed()
    {
        await using var engines = new WorkerEngines(new SiloOptions { Model = SharedData.Stories260KGguf, Backend = "cpu", CpuWorkers = 1, Threads = 1, KvBlocks = 8 });
        Assert.Null(engines.Get(0).Tokenizer.Vocabulary.ChatTemplate);
        Assert.Null(VocabularyMapping.ToWire(engines.Get(0).Tokenizer.Vocabulary).ChatTemplate);
    }
}
