using System.Numerics.Tensors;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>Row-wise kernels: RMSNorm, the SwiGLU gate, soft-capping.</summary>
internal static unsafe class Norms
{
    /// <summary>o = w * (x / sqrt(mean(x^2) + eps)), as llama2.c's rmsnorm.</summary>
    public static void RmsNorm(float* o, float* x, float* w, int size, float eps)
    {
        var xs = new ReadOnlySpan<float>(x, size);
        var ss = TensorPrimitives.SumOfSquares(xs) / size + eps;
        var scale = 1f / MathF.Sqrt(ss);
        var os = new Span<float>(o, size);
        TensorPrimitives.Multiply(xs, scale, os);
        TensorPrimitives.Multiply(os, new ReadOnlySpan<float>(w, size), os);
    }

    /// <summary>x += w * rmsnorm(a), a overwritten (gemma's post-attention / post-feed-forward norm before the residual add).</summary>
    public static void RmsNormAdd(float* x, float* a, float* w, int size, float eps)
    {
        RmsNorm(a, a, w, size, eps);
        var xs = new Span<float>(x, size);
        TensorPrimitives.Add(xs, new ReadOnlySpan<float>(a, size), xs);
    }

    /// <summary>
    /// x = cap * tanh(x * (1 / cap)) in place: ggml_scale by 1/cap, ggml_tanh, ggml_scale by cap, as llama.cpp soft-caps
    /// gemma2's attention scores and logits (multiplying by the reciprocal, not dividing, rounds as ggml does).
    /// </summary>
    public static void Softcap(float* x, int size, float cap)
    {
        var inv = 1f / cap;
        for (var i = 0; i < size; i++) x[i] = MathF.Tanh(x[i] * inv) * cap;
    }

    /// <summary>h1 = silu(h1) * h3, silu(x) = x * sigmoid(x).</summary>
    public static void SwiGlu(float* h1, float* h3, int size)
    {
        var g = new Span<float>(h1, size);
        var u = new ReadOnlySpan<float>(h3, size);
        // silu(g) * u = g * u * sigmoid(g); u is consumed first so g can be overwritten in place.
        Span<float> tmp = stackalloc float[Math.Min(size, 1024)];
        for (var i = 0; i < size; i += tmp.Length)
        {
            var n = Math.Min(tmp.Length, size - i);
            var gi = g.Slice(i, n);
            var t = tmp[..n];
            TensorPrimitives.Sigmoid(gi, t);
            TensorPrimitives.Multiply(gi, t, gi);
            TensorPrimitives.Multiply(gi, u.Slice(i, n), gi);
        }
    }
}
