using OrleansInfer.Testing;

namespace OrleansInfer.Conformance.Tests;

/// <summary>The prompts both engines are run on.</summary>
public static class Prompts
{
    /// <summary>Tokens generated per prompt (the reference's length).</summary>
    public const int GeneratedTokens = 64;

    /// <summary>Prompts beyond the reference's, tokenized by llama.cpp so both engines see the same ids.</summary>
    public static readonly string[] Extra =
    [
        "Lily and Ben went to the park.",
        "The little dog was sad because",
        "One day, a big red ball fell into the water. Tom said,",
    ];

    public static IReadOnlyList<GreedyCase> ReferenceCases { get; } = SharedData.Reference.Cases;

    public static TheoryData<int> ReferenceIndices() => new(Enumerable.Range(0, ReferenceCases.Count));

    public static TheoryData<string> ExtraPrompts() => new(Extra);

    /// <summary>A prompt's text as a test name shows it.</summary>
    public static string Show(string prompt) => prompt.Length == 0 ? "(empty prompt)" : $"\"{prompt}\"";

    public static string Ids(IEnumerable<int> ids) => $"[{string.Join(", ", ids)}]";

    /// <summary>Where two token sequences first differ, or -1 when they are equal.</summary>
    public static int FirstDifference(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        var n = Math.Min(a.Count, b.Count);
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i]) return i;
        }
        return a.Count == b.Count ? -1 : n;
    }
}
