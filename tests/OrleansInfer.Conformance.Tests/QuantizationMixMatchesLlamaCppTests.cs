using LLama;
using LLama.Native;
using OrleansInfer.LlamaCppPeer;
using OrleansInfer.Model;
using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Quantization;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// Our quantization mixes against llama.cpp's own quantizer (llama_model_quantize through LLamaSharp) on the same f32
/// file: every tensor gets the type llama.cpp gives it; and our q4_k_m files load in llama.cpp, whose logits on them
/// agree with ours.
/// </summary>
public sealed class QuantizationMixMatchesLlamaCppTests(ITestOutputHelper output) : IDisposable
{
    private readonly ConvertedFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>tiny256 (rows of 256 and 768: real K-quants) or stories260K (rows of 64 and 172: fallbacks).</summary>
    private string Source(string model)
    {
        if (model == "stories260K") return SharedData.Stories260KGguf;
        var path = Path.Combine(_folder.Path, "tiny256-f32.gguf");
        if (!File.Exists(path))
            SyntheticModel.Write(SyntheticPreset.Find("tiny256")!, ModelFile.LoadVocabulary(SharedData.Tok512, null), GgmlType.F32, path, seed: 1);
        return path;
    }

    public static TheoryData<string, QuantizationMix> Mixes() => new()
    {
        { "tiny256", QuantizationMix.Q4_K_M },
        { "tiny256", QuantizationMix.Q5_K_M },
        { "tiny256", QuantizationMix.Q6_K },
        { "tiny256", QuantizationMix.Q8_0 },
        { "tiny256", QuantizationMix.Q4_0 },
        { "stories260K", QuantizationMix.Q4_K_M },
        { "stories260K", QuantizationMix.Q5_K_M },
        { "stories260K", QuantizationMix.Q6_K },
    };

    [Theory]
    [MemberData(nameof(Mixes))]
    public void EveryTensorGetsTheTypeLlamaCppsQuantizerGivesIt(string model, QuantizationMix mix)
    {
        var source = Source(model);
        var theirs = Path.Combine(_folder.Path, $"{model}-{mix}-llamacpp.gguf");
        NativeLogging.Quiet();
        NativeApi.llama_empty_call();
        Assert.True(LLamaQuantizer.Quantize(source, theirs, (LLamaFtype)QuantizationMixes.FileType(mix), 1, true, quantizeOutputTensor: true),
            $"llama.cpp failed to quantize {model} to {mix}");

        using var llama = GgufFile.Open(theirs);
        using var ours = ModelFile.Open(source);
        var expected = llama.Tensors.ToDictionary(t => t.Name, t => t.Type);
        var chosen = QuantizationRecipe.Choose(ours.Config!, mix);
        Assert.True(expected.Count == chosen.Count, $"{model} {mix}: llama.cpp wrote {expected.Count} tensors, our recipe has {chosen.Count}");
        var wrong = chosen.Where(c => expected[c.Name] != c.Type).Select(c => $"{c.Name}: llama.cpp {expected[c.Name]}, ours {c.Type}").ToList();
        Assert.True(wrong.Count == 0, $"{model} {mix}: tensor types differ from llama.cpp's:\n{string.Join("\n", wrong)}");
        Assert.True(QuantizationMixes.FileType(mix) == (int)llama.Metadata.GetInteger("general.file_type")!, $"{model} {mix}: general.file_type differs");
    }

    [Theory]
    [InlineData("tiny256")]
    [InlineData("stories260K")]
    public void OurQ4KMFileLoadsInLlamaCppAndItsLogitsAgreeWithOurs(string model)
    {
        var path = Path.Combine(_folder.Path, $"{model}-q4_k_m-ours.gguf");
        using (var source = ModelFile.Open(Source(model)))
            ModelQuantizer.Quantize(source, path, QuantizationMix.Q4_K_M, threads: 1);

        using var llama = new LlamaCppSession(path, threads: 1, contextSize: 256);
        Assert.True(llama.Weights.NativeHandle.FileType == LLamaFtype.MOSTLY_Q4_K_M, $"llama.cpp reads the file type as {llama.Weights.NativeHandle.FileType}");
        using var ours = new OurEngine(path);
        var prompt = Prompts.ReferenceCases[0].PromptTokenIds;
        var theirLogits = llama.PromptLogits(prompt);
        var ourLogits = ours.PromptLogits(prompt);
        var cosine = Cosine(theirLogits, ourLogits);
        var (maxDiff, at) = LlamaCppReadsOurGgufTests.MaxAbsDifference(theirLogits, ourLogits);
        output.WriteLine($"{model} q4_k_m: prompt logits cosine {cosine:F6}, max |diff| {maxDiff:G3} (token {at})");
        Assert.True(cosine >= 0.999, $"{model} q4_k_m: expected cosine similarity of the prompt logits >= 0.999, got {cosine}");

        var theirTokens = llama.GenerateGreedy(prompt, 16, stopAtEos: false);
        var ourTokens = ours.GenerateGreedy([prompt], 16)[0];
        var first = Prompts.FirstDifference(theirTokens, ourTokens);
        output.WriteLine($"  llama.cpp {Prompts.Ids(theirTokens)}\n  ours      {Prompts.Ids(ourTokens)}");
        Assert.True(first < 0 || first >= 8, $"{model} q4_k_m: expected the first 8 greedy tokens to agree with llama.cpp, they differ at step {first}");
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
