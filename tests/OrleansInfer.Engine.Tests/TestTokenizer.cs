using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// A tiny SentencePiece vocabulary built in code: 0 &lt;unk&gt;, 1 &lt;s&gt; (BOS), 2 &lt;/s&gt; (EOS), then one
/// character per token: a..z, then "▁" (a space), then punctuation and digits. Size 8 gives a, b, c, d, e at 3..7.
/// </summary>
public static class TestTokenizer
{
    public const int Bos = 1;
    public const int Eos = 2;
    public const string Characters = "abcdefghijklmnopqrstuvwxyz\u2581.,!?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    public static Tokenizer Create(int size = 8)
    {
        if (size < 3 || size > 3 + Characters.Length) throw new ArgumentOutOfRangeException(nameof(size));
        var tokens = new string[size];
        var types = new TokenType[size];
        tokens[0] = "<unk>";
        types[0] = TokenType.Unknown;
        tokens[1] = "<s>";
        types[1] = TokenType.Control;
        tokens[2] = "</s>";
        types[2] = TokenType.Control;
        for (var i = 3; i < size; i++)
        {
            tokens[i] = Characters[i - 3].ToString();
            types[i] = TokenType.Normal;
        }
        return Tokenizer.Create(new Vocabulary
        {
            Kind = TokenizerKind.SentencePiece,
            Tokens = tokens,
            Scores = new float[size],
            Types = types,
            BosId = Bos,
            EosId = Eos,
            UnknownId = 0,
        });
    }

    /// <summary>The token of a character of <see cref="Characters"/> (' ' for the space).</summary>
    public static int Id(char c) => 3 + Characters.IndexOf(c == ' ' ? '\u2581' : c);

    public static int[] Ids(string text) => text.Select(Id).ToArray();
}
