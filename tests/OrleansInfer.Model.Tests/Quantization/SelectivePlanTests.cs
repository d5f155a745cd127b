using OrleansInfer.Model.Quantization;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Quantization;

public sealed class SelectivePlanTests
{
    private static readonly LlamaConfig Tiny = SyntheticPreset.Find("tiny256")!.Config;

    private static Dictionary<string, double> Sensitivities(Func<string, double> of) =>
        LlamaTensorNames.Expected(Tiny).Where(t => QuantizationRecipe.Quantizable(t.Name, t.Shape)).ToDictionary(t => t.Name, t => of(t.Name));

    [Fact]
    public void RaisesTheMostSensitivePerExtraBitWithinTheBudget()
    {
        // attn_v (256 x 128) is 6x smaller than ffn_up (256 x 768): at the same sensitivity per bit it must go first.
        var s = Sensitivities(n => n switch { "blk.1.attn_v.weight" => 1.0, "blk.1.ffn_up.weight" => 5.0, _ => 0.001 });
        var uniform = ModelQuantizer.BitsPerWeight(SelectivePlan.Choose(Tiny, s, GgmlType.Q4_0, GgmlType.Q8_0, 0, 0, SelectionOrder.Sensitivity));
        Assert.Equal(4.5, uniform, 9);
        var target = uniform + 0.1;
        var plan = SelectivePlan.Choose(Tiny, s, GgmlType.Q4_0, GgmlType.Q8_0, target, null, SelectionOrder.Sensitivity);
        var bpw = ModelQuantizer.BitsPerWeight(plan);
        Assert.True(bpw <= target, $"expected at most {target} bits per weight, got {bpw}");
        var raised = plan.Where(c => c.Type == GgmlType.Q8_0).Select(c => c.Name).ToList();
        Assert.Contains("blk.1.attn_v.weight", raised);
        Assert.True(plan.Where(c => !c.Quantizable).All(c => c.Type == GgmlType.F32), "norms stay f32");
    }

    [Fact]
    public void PositionOrderTakesEmbeddingAndOutputThenOuterLayers()
    {
        var plan = SelectivePlan.Choose(Tiny, new Dictionary<string, double>(), GgmlType.Q4_0, GgmlType.Q8_0, 0, 3, SelectionOrder.Position);
        var raised = plan.Where(c => c.Type == GgmlType.Q8_0).Select(c => c.Name).ToArray();
        Assert.Equal(["token_embd.weight", "blk.0.attn_q.weight", "output.weight"], raised);
    }

    [Fact]
    public void ATargetBelowTheBaseTypeIsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SelectivePlan.Choose(Tiny, Sensitivities(_ => 1), GgmlType.Q4_0, GgmlType.Q8_0, 4.0, null, SelectionOrder.Sensitivity));
        Assert.Contains("4.5000 bits per weight", e.Message);
    }
}
