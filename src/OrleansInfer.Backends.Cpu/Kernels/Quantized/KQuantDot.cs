namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Products of K-quant weight rows with Q8_K activation rows:
/// y[t * ldy + r] (+)= dot(W row r, X row t) for r in [0, rows) and t in [0, tokens).
/// W rows are <c>rowBytes</c> apart from <c>w</c> (ggml's block layout as in the file); X rows are
/// <c>xRowBytes</c> apart (<see cref="Q8KActivations"/>); k is a multiple of 256. Each weight row is read once
/// for all the tokens (several sequences per weight pass).
/// </summary>
internal static unsafe class KQuantDot
{
    public static void Q4K(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, bool accumulate)
        => throw new NotImplementedException("Q4_K kernel: in progress");

    public static void Q5K(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, bool accumulate)
        => throw new NotImplementedException("Q5_K kernel: in progress");

    public static void Q6K(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, bool accumulate)
        => throw new NotImplementedException("Q6_K kernel: in progress");
}
