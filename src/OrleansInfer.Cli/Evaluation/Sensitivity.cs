using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;
using OrleansInfer.Model.Quantization;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Cli.Evaluation;

/// <summary>
/// Each weight matrix's sensitivity to quantization: the mean KL divergence from the unquantized model's next-token
/// distributions on the calibration chunks when only that matrix is quantized (to the type it would be stored as),
/// the rest of the model unchanged. Variants are built in memory: the one matrix re-encoded in a native buffer, every
/// other tensor read in place from the opened file.
/// </summary>
internal static class Sensitivity
{
    public static Dictionary<string, double> Measure(ModelFile model, TextChunks chunks, GgmlType baseType, RunnerChoice runners, int threads, TextWriter progress)
    {
        var config = model.Config!;
        BaseLogProbabilities reference;
        using (var runner = LoadedModel.CreateRunner(model, runners))
        {
            reference = BaseLogProbabilities.Compute(runner, chunks);
        }

        var views = model.Weights!.All().ToDictionary(t => t.Name, StringComparer.Ordinal);
        var matrices = LlamaTensorNames.Expected(config).Where(t => QuantizationRecipe.Quantizable(t.Name, t.Shape)).ToList();
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (name, shape) in matrices)
        {
            var type = QuantizationRecipe.StorageType(baseType, shape[0]);
            using var encoded = EncodedTensor.Encode(views[name], type, threads);
            var variant = ModelFile.FromWeights($"{name} as {GgmlTypeInfo.Name(type)}", config,
                WeightVariants.Replace(model.Weights!, new Dictionary<string, TensorView> { [name] = encoded.View }), model.Vocabulary);
            using var runner = LoadedModel.CreateRunner(variant, runners);
            result[name] = Metrics.KlDivergence(runner, chunks, reference).Mean;
            progress.WriteLine($"sensitivity {result.Count}/{matrices.Count}: {name} as {GgmlTypeInfo.Name(type)}: {result[name]:G4} ({clock.Elapsed.TotalSeconds:F1} s)");
        }
        return result;
    }
}
