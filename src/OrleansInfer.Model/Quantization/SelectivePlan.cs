using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Quantization;

/// <summary>Which tensors a selective plan raises to the high type first.</summary>
public enum SelectionOrder
{
    /// <summary>Largest measured sensitivity per extra bit first.</summary>
    Sensitivity,

    /// <summary>By position: the embedding and output, then layers from both ends inwards (first, last, second, ...).</summary>
    Position,
}

/// <summary>
/// Selective quantization's choice: every quantizable matrix at the base type, then matrices raised to the high type
/// in <see cref="SelectionOrder"/> while the bits per weight over the quantizable matrices stay within the target
/// (or until a given count is reached). Types follow <see cref="QuantizationRecipe.StorageType"/>: rows that are not
/// whole blocks of a type are stored at its fallback, and those bits are counted.
/// </summary>
public static class SelectivePlan
{
    /// <param name="config">The model's shape.</param>
    /// <param name="sensitivity">Measured sensitivity per tensor name (needed for <see cref="SelectionOrder.Sensitivity"/>).</param>
    /// <param name="baseType">Type every matrix starts at.</param>
    /// <param name="highType">Type a raised matrix gets.</param>
    /// <param name="targetBitsPerWeight">Budget over the quantizable matrices; ignored when <paramref name="highCount"/> is given.</param>
    /// <param name="highCount">Raise exactly this many (the first in order that gain bits), whatever the budget.</param>
    /// <param name="order">Which matrices go first.</param>
    public static IReadOnlyList<TensorChoice> Choose(LlamaConfig config, IReadOnlyDictionary<string, double> sensitivity, GgmlType baseType, GgmlType highType,
        double targetBitsPerWeight, int? highCount, SelectionOrder order)
    {
        var tensors = LlamaTensorNames.Expected(config).ToList();
        var choices = tensors.Select(t => QuantizationRecipe.Quantizable(t.Name, t.Shape)
            ? Choice(t.Name, t.Shape, baseType)
            : new TensorChoice(t.Name, t.Shape, GgmlType.F32, false, null)).ToList();
        var elements = choices.Where(c => c.Quantizable).Sum(c => c.Elements);
        var bits = choices.Where(c => c.Quantizable).Sum(c => 8.0 * c.Bytes);
        var budget = targetBitsPerWeight * elements;
        if (highCount is null && bits > budget)
            throw new ArgumentOutOfRangeException(nameof(targetBitsPerWeight), targetBitsPerWeight, $"the base type alone needs {bits / elements:F4} bits per weight");

        var candidates = choices.Select((c, i) => (Index: i, Base: c, High: Choice(c.Name, c.Shape, highType)))
            .Where(x => x.Base.Quantizable && x.High.Bytes > x.Base.Bytes)
            .ToList();
        var ordered = order == SelectionOrder.Position
            ? candidates.OrderBy(x => PositionRank(x.Base.Name, config.BlockCount)).ThenBy(x => x.Index)
            : candidates.OrderByDescending(x => sensitivity[x.Base.Name] / (8.0 * (x.High.Bytes - x.Base.Bytes))).ThenBy(x => x.Index);
        var raised = 0;
        foreach (var (index, low, high) in ordered)
        {
            if (highCount is { } n)
            {
                if (raised == n) break;
            }
            else if (bits + 8.0 * (high.Bytes - low.Bytes) > budget)
            {
                continue;
            }
            bits += 8.0 * (high.Bytes - low.Bytes);
            choices[index] = high;
            raised++;
        }
        return choices;
    }

    private static TensorChoice Choice(string name, long[] shape, GgmlType wanted)
    {
        var stored = QuantizationRecipe.StorageType(wanted, shape[0]);
        return new TensorChoice(name, shape, stored, true, stored == wanted ? null : wanted);
    }

    /// <summary>0 for tensors outside the blocks (embedding, output), then 1 + distance of the layer from the nearer end, first before last.</summary>
    private static int PositionRank(string name, int layers)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return 0;
        var layer = int.Parse(name.AsSpan(4, name.IndexOf('.', 4) - 4), System.Globalization.CultureInfo.InvariantCulture);
        var fromEnd = layers - 1 - layer;
        return 1 + (layer <= fromEnd ? 2 * layer : 2 * fromEnd + 1);
    }
}
