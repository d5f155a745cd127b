using OrleansInfer.Abstractions;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Grains.Mapping;

/// <summary>The model's vocabulary as wire data.</summary>
public static class VocabularyMapping
{
    public static VocabularyData ToWire(Vocabulary v) => new()
    {
        Model = v.Kind == TokenizerKind.SentencePiece ? "llama" : "gpt2",
        PreTokenizer = v.PreTokenizer,
        Tokens = v.Tokens,
        Scores = v.Scores,
        Types = v.Types.Select(t => (int)t).ToArray(),
        Merges = v.Merges,
        BosId = v.BosId,
        EosId = v.EosId,
        UnknownId = v.UnknownId,
        PaddingId = v.PaddingId,
        EotId = v.EotId,
        AddBos = v.AddBos,
        AddEos = v.AddEos,
        AddSpacePrefix = v.AddSpacePrefix,
        ChatTemplate = v.ChatTemplate,
    };
}
