using OrleansInfer.Testing;

namespace OrleansInfer.Sdk.Tests;

/// <summary>The four greedy prompts: the two of the shared reference and two more.</summary>
public static class Prompts
{
    public static IReadOnlyList<string> Four { get; } =
    [
        SharedData.Reference.Cases[0].Prompt,
        SharedData.Reference.Cases[1].Prompt,
        "Lily and Ben went to the park. They saw a big dog",
        "The little bird could not fly, so",
    ];
}
