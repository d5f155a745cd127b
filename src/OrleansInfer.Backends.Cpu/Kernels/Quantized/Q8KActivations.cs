namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Activation rows quantized for the K-quant products, as llama.cpp's block_q8_K: per 256 values an f32 scale d,
/// 256 int8 values and 16 int16 sums of 16 values each (the sums fold the weights' minimums in one multiply).
/// </summary>
internal static unsafe class Q8KActivations
{
    public const int BlockBytes = 292;

    /// <summary>Bytes of one quantized row of <paramref name="k"/> values (k a multiple of 256).</summary>
    public static long RowBytes(int k) => (long)k / 256 * BlockBytes;

    /// <summary>Quantizes <paramref name="k"/> floats (a multiple of 256) into k/256 blocks at <paramref name="destination"/>.</summary>
    public static void Quantize(float* x, int k, byte* destination) => throw new NotImplementedException("Q8_K activations: in progress");
}
