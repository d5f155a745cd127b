using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// The KV pool as kernels see it: value <c>e</c> (numbered as in an f32 pool, <c>[layer][K | V][block][slot][kv_dim]</c>)
/// stored as f32, f16 or q8_0. The RoPE/KV-write, attention and block-copy kernels are generic over it, so each
/// format compiles to its own loads and stores with no branch on the format.
/// </summary>
public interface IKvStore
{
    /// <summary>Whether <see cref="Store"/> needs the max |x| of the value's 32-value block (q8_0's scale).</summary>
    bool NeedsBlockMax { get; }

    float Load(long e);

    /// <summary>Writes value <paramref name="e"/>; <paramref name="blockMax"/> is max |x| over its 32-value block when <see cref="NeedsBlockMax"/>.</summary>
    void Store(long e, float value, float blockMax);

    /// <summary>Copies value <paramref name="from"/> (and its block's scale, once per block) to <paramref name="to"/>.</summary>
    void Copy(long from, long to);
}

/// <summary>f32 values.</summary>
public struct F32Kv : IKvStore
{
    public ArrayView<float> Data;

    public readonly bool NeedsBlockMax => false;

    public readonly float Load(long e) => Data[e];

    public readonly void Store(long e, float value, float blockMax) => Data[e] = value;

    public readonly void Copy(long from, long to) => Data[to] = Data[from];
}

/// <summary>IEEE half values as bits (rounded to nearest even by <see cref="HalfBits.FromFloat"/>, as CUDA's cvt.rn and System.Half).</summary>
public struct F16Kv : IKvStore
{
    public ArrayView<ushort> Bits;

    public readonly bool NeedsBlockMax => false;

    public readonly float Load(long e) => HalfBits.ToFloat(Bits[e]);

    public readonly void Store(long e, float value, float blockMax) => Bits[e] = HalfBits.FromFloat(value);

    public readonly void Copy(long from, long to) => Bits[to] = Bits[from];
}

/// <summary>
/// ggml's q8_0 split in two arrays: one int8 per value and one f16 scale per 32 values (<c>e &gt;&gt; 5</c>):
/// d = max|x| / 127, q = round(x / d) half away from zero, as <c>quantize_row_q8_0_ref</c>; x ≈ d · q.
/// 34 bytes per 32 values, as the CPU backend's interleaved blocks.
/// </summary>
public struct Q8Kv : IKvStore
{
    public ArrayView<sbyte> Quants;
    public ArrayView<ushort> Scales;

    public readonly bool NeedsBlockMax => true;

    public readonly float Load(long e) => HalfBits.ToFloat(Scales[e >> 5]) * Quants[e];

    public readonly void Store(long e, float value, float blockMax)
    {
        var d = blockMax / 127f;
        var id = d != 0f ? 1f / d : 0f;
        Quants[e] = (sbyte)RoundAwayFromZero(value * id);
        if ((e & 31) == 0) Scales[e >> 5] = HalfBits.FromFloat(d);
    }

    public readonly void Copy(long from, long to)
    {
        Quants[to] = Quants[from];
        if ((to & 31) == 0) Scales[to >> 5] = Scales[from >> 5];
    }

    /// <summary>C's roundf for |x| &lt; 2^31: x - trunc(x) is exact, so the halfway test is too.</summary>
    private static int RoundAwayFromZero(float x)
    {
        var t = (int)x;
        var frac = x - t;
        if (frac >= 0.5f) t++;
        else if (frac <= -0.5f) t--;
        return t;
    }
}

/// <summary>
/// f32 ↔ IEEE half bits with integer operations, so that the CPU accelerator (whose ILGPU.Half conversion
/// truncates) and CUDA round alike: to nearest, ties to even, as System.Half and the CPU backend.
/// </summary>
public static class HalfBits
{
    public static float ToFloat(ushort bits) => (float)Interop.IntAsFloat(bits);

    public static ushort FromFloat(float value)
    {
        var f = Interop.FloatAsInt(value);
        var sign = (f >> 16) & 0x8000u;
        var abs = f & 0x7FFFFFFFu;
        if (abs > 0x7F800000u) return (ushort)(sign | 0x7E00u); // NaN
        if (abs >= 0x477FF000u) return (ushort)(sign | 0x7C00u); // rounds past 65504: infinity
        if (abs >= 0x38800000u)
        {
            // Normal: rebias the exponent (127 → 15), keep 10 mantissa bits, round the 13 dropped ones (a carry may
            // step into the exponent, which is still the right encoding).
            var h = (abs - 0x38000000u) >> 13;
            var rest = abs & 0x1FFFu;
            if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0)) h++;
            return (ushort)(sign | h);
        }
        if (abs <= 0x33000000u) return (ushort)sign; // at most 2^-25: rounds to zero (the tie goes to even 0)
        // Subnormal: the 24-bit significand shifted to units of 2^-24.
        var exponent = (int)(abs >> 23);
        var significand = (abs & 0x7FFFFFu) | 0x800000u;
        var shift = 126 - exponent;
        var q = significand >> shift;
        var dropped = significand & ((1u << shift) - 1);
        var halfway = 1u << (shift - 1);
        if (dropped > halfway || (dropped == halfway && (q & 1u) != 0)) q++;
        return (ushort)(sign | q);
    }
}
