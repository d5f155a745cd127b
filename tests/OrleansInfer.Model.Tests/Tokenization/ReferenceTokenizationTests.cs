using System.Text;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Tokenization;

/// <summary>The stories260K greedy reference: prompt ids and the decoded text, from both of its vocabulary files.</summary>
public sealed class ReferenceTokenizationTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        var count = SharedData.Reference.Cases.Count;
        foreach (var source in new[] { "stories260K.gguf", "tok512.bin" })
            for (var i = 0; i < count; i++) data.Add(source, i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Prompt_encodes_with_BOS_to_the_reference_ids(string source, int index)
    {
        var reference = SharedData.Reference.Cases[index];

        Assert.Equal(reference.PromptTokenIds, TestTokenizers.ByName(source).Encode(reference.Prompt));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Streaming_prompt_and_generated_ids_gives_the_reference_text(string source, int index)
    {
        var reference = SharedData.Reference.Cases[index];
        var detokenizer = TestTokenizers.ByName(source).CreateStreamingDetokenizer();
        var text = new StringBuilder();

        foreach (var id in reference.PromptTokenIds.Concat(reference.GeneratedTokenIds)) text.Append(detokenizer.Append(id));
        text.Append(detokenizer.Flush());

        Assert.Equal(reference.Text, text.ToString());
    }

    [Theory]
    [InlineData("stories260K.gguf")]
    [InlineData("tok512.bin")]
    public void Empty_prompt_is_just_BOS(string source)
    {
        Assert.Equal([1], TestTokenizers.ByName(source).Encode(""));
        Assert.Empty(TestTokenizers.ByName(source).Encode("", addSpecial: false));
    }

    [Fact]
    public void Both_stories260K_vocabulary_files_hold_the_same_tokens_and_scores()
    {
        var gguf = TestTokenizers.Stories260K.Vocabulary;
        var bin = TestTokenizers.Tok512.Vocabulary;

        Assert.Equal(gguf.Tokens, bin.Tokens);
        Assert.Equal(gguf.Scores, bin.Scores);
        Assert.Equal(gguf.Types, bin.Types);
    }
}
