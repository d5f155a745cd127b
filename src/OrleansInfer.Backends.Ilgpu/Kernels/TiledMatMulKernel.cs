using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>The shape of Y[m, n] (+)= X[m, :] · W[n, :], for the decode (GEMV) and the prefill (tiled) kernels.</summary>
public struct MatMulArgs
{
    /// <summary>Activation rows (at most <see cref="GemvKernel.MaxRows"/> for the decode kernel).</summary>
    public int M;
    public int N;
    public int K;
    public int Ldx;
    public int Ldy;

    /// <summary>Store, Add or (decode kernel) SwiGLU over W1/W3 row pairs; the tiled kernel leaves SwiGLU to <see cref="SwiGluKernel"/>.</summary>
    public MatMulMode Mode;

    /// <summary>ggml's GELU table (<see cref="OrleansInfer.Model.GgmlGelu"/>) for <see cref="MatMulMode.GeGlu"/>; every launch carries the device copy.</summary>
    public ArrayView<float> GeluTable;
}

/// <summary>
/// Y[m, n] (+)= X[m, :] · W[n, :] for prefill shapes: a 64 × 64 output tile per group of 256 threads, K walked in
/// slices of 16 staged in shared memory (weights dequantized to f32 on the way in, 8 per load), each thread accumulating a 4 × 4
/// register tile. Every load is bounds-checked against M, N and K separately, so any shape works (M &lt; K, odd K).
/// </summary>
public static class TiledMatMulKernel
{
    public const int TileM = 64;
    public const int TileN = 64;
    public const int TileK = 16;
    public const int Threads = 256;

    // Shared tiles are [TileK][64 + 1]: the padding column keeps the transposed stores free of bank conflicts.
    private const int Stride = TileM + 1;

    public static void Kernel<TW>(TW w, ArrayView<float> x, ArrayView<float> y, MatMulArgs a)
        where TW : struct, IWeightRows
    {
        var xs = SharedMemory.Allocate<float>(TileK * Stride);
        var ws = SharedMemory.Allocate<float>(TileK * Stride);
        var tid = Group.IdxX;
        var tx = tid % 16;
        var ty = tid / 16;
        var n0 = Grid.IdxX * TileN;
        var m0 = Grid.IdxY * TileM;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;

        for (var k0 = 0; k0 < a.K; k0 += TileK)
        {
            for (var e = 0; e < TileM * TileK / Threads; e++)
            {
                var idx = tid + e * Threads;
                var r = idx / TileK;
                var kk = idx % TileK;
                var k = k0 + kk;
                var m = m0 + r;
                xs[kk * Stride + r] = m < a.M && k < a.K ? x[(long)m * a.Ldx + k] : 0f;
            }
            if (tid < TileN * TileK / 8) StageWeights(w, ws, a, n0 + tid % TileN, k0, tid % TileN, tid / TileN * 8);
            Group.Barrier();

            for (var kk = 0; kk < TileK; kk++)
            {
                var b = kk * Stride;
                float x0 = xs[b + ty], x1 = xs[b + ty + 16], x2 = xs[b + ty + 32], x3 = xs[b + ty + 48];
                float w0 = ws[b + tx], w1 = ws[b + tx + 16], w2 = ws[b + tx + 32], w3 = ws[b + tx + 48];
                c00 += x0 * w0; c01 += x0 * w1; c02 += x0 * w2; c03 += x0 * w3;
                c10 += x1 * w0; c11 += x1 * w1; c12 += x1 * w2; c13 += x1 * w3;
                c20 += x2 * w0; c21 += x2 * w1; c22 += x2 * w2; c23 += x2 * w3;
                c30 += x3 * w0; c31 += x3 * w1; c32 += x3 * w2; c33 += x3 * w3;
            }
            Group.Barrier();
        }

        int ma = m0 + ty, na = n0 + tx;
        Store(y, a, ma, na, c00); Store(y, a, ma, na + 16, c01); Store(y, a, ma, na + 32, c02); Store(y, a, ma, na + 48, c03);
        Store(y, a, ma + 16, na, c10); Store(y, a, ma + 16, na + 16, c11); Store(y, a, ma + 16, na + 32, c12); Store(y, a, ma + 16, na + 48, c13);
        Store(y, a, ma + 32, na, c20); Store(y, a, ma + 32, na + 16, c21); Store(y, a, ma + 32, na + 32, c22); Store(y, a, ma + 32, na + 48, c23);
        Store(y, a, ma + 48, na, c30); Store(y, a, ma + 48, na + 16, c31); Store(y, a, ma + 48, na + 32, c32); Store(y, a, ma + 48, na + 48, c33);
    }

    /// <summary>
    /// Eight weights W[n, k0+kk .. +8) into the shared tile, dequantized on the way: one 8-value load (16 bytes of f16,
    /// 8 of q8_0, 4 of packed nibbles) where the run lies inside K, else values one by one (odd K, the last slice).
    /// Consecutive threads take consecutive rows, so the shared-memory stores hit distinct banks.
    /// </summary>
    private static void StageWeights<TW>(TW w, ArrayView<float> ws, MatMulArgs a, int n, int k0, int r, int kk)
        where TW : struct, IWeightRows
    {
        var k = k0 + kk;
        var at = kk * Stride + r;
        if (n < a.N && k + 8 <= a.K)
        {
            var v = w.Load8(n, k);
            ws[at] = v.V0;
            ws[at + Stride] = v.V1;
            ws[at + 2 * Stride] = v.V2;
            ws[at + 3 * Stride] = v.V3;
            ws[at + 4 * Stride] = v.V4;
            ws[at + 5 * Stride] = v.V5;
            ws[at + 6 * Stride] = v.V6;
            ws[at + 7 * Stride] = v.V7;
            return;
        }
        for (var i = 0; i < 8; i++) ws[at + i * Stride] = n < a.N && k + i < a.K ? w.Load(n, k + i) : 0f;
    }

    private static void Store(ArrayView<float> y, MatMulArgs a, int m, int n, float v)
    {
        if (m >= a.M || n >= a.N) return;
        var at = (long)m * a.Ldy + n;
        if (a.Mode == MatMulMode.Add) y[at] += v;
        else y[at] = v;
    }
}
