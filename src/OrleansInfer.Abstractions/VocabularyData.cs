namespace OrleansInfer.Abstractions;

/// <summary>A model's tokenizer vocabulary on the wire, so clients (CLI, gateway) tokenize exactly as the workers do.</summary>
[GenerateSerializer, Immutable]
public sealed record VocabularyData
{
    /// <summary>"llama" (SentencePiece) or "gpt2" (byte-level BPE), as tokenizer.ggml.model.</summary>
    [Id(0)] public required string Model { get; init; }
    [Id(1)] public string? PreTokenizer { get; init; }
    [Id(2)] public required string[] Tokens { get; init; }
    [Id(3)] public float[] Scores { get; init; } = [];
    [Id(4)] public int[] Types { get; init; } = [];
    [Id(5)] public string[] Merges { get; init; } = [];
    [Id(6)] public int BosId { get; init; } = -1;
    [Id(7)] public int EosId { get; init; } = -1;
    [Id(8)] public int UnknownId { get; init; } = -1;
    [Id(9)] public int PaddingId { get; init; } = -1;
    [Id(10)] public int EotId { get; init; } = -1;
    [Id(11)] public bool AddBos { get; init; }
    [Id(12)] public bool AddEos { get; init; }
    [Id(13)] public bool AddSpacePrefix { get; init; }

    /// <summary>The Jinja chat template the workers serve (the model's or the silo's --chat-template), if any.</summary>
    [Id(14)] public string? ChatTemplate { get; init; }
}
