using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Tokenization;

/// <summary>
/// llama.cpp's own tokenizer test vectors (tests/test-tokenizer-0): each string encoded without BOS and without
/// parsing special tokens must give exactly llama.cpp's ids.
/// </summary>
public sealed class LlamaCppConformanceTests
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static TheoryData<string, int, string> Cases()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var vocab in new[] { TestTokenizers.LlamaSpmFile, TestTokenizers.Gpt2File })
        {
            var inputs = Inputs(vocab);
            for (var i = 0; i < inputs.Length; i++) data.Add(vocab, i, inputs[i]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encodes_exactly_as_llama_cpp(string vocab, int index, string text)
    {
        var expected = ExpectedIds(vocab)[index];

        var actual = TestTokenizers.ByName(vocab).Encode(text, addSpecial: false, parseSpecial: false);

        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(TestTokenizers.LlamaSpmFile)]
    [InlineData(TestTokenizers.Gpt2File)]
    public void Test_files_hold_46_strings_and_46_expectations(string vocab)
    {
        Assert.Equal(46, Inputs(vocab).Length);
        Assert.Equal(46, ExpectedIds(vocab).Length);
    }

    /// <summary>The strings of X.gguf.inp: each followed by "\n__ggml_vocab_test__\n" (that newline is not part of it).</summary>
    private static string[] Inputs(string vocab)
    {
        var all = File.ReadAllText(SharedData.File("tokenizers", vocab + ".inp"));
        var parts = all.Split(Separator);
        if (parts[^1].Length != 0) throw new InvalidDataException($"{vocab}.inp does not end with the separator");
        return parts[..^1];
    }

    /// <summary>One line per string: ids separated by spaces (an empty line: no tokens).</summary>
    private static int[][] ExpectedIds(string vocab)
    {
        var lines = File.ReadAllText(SharedData.File("tokenizers", vocab + ".out")).Split('\n');
        if (lines[^1].Length == 0) lines = lines[..^1];
        return lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()).ToArray();
    }
}
