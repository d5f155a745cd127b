namespace OrleansInfer.Model;

/// <summary>The decoder families we run (GGUF <c>general.architecture</c>), named as llama.cpp names them.</summary>
public enum ModelArchitecture
{
    /// <summary>"llama": Llama 1-3.x, Mistral, TinyLlama; RoPE on adjacent pairs, SwiGLU.</summary>
    Llama,

    /// <summary>"qwen2": Qwen 2/2.5; Q/K/V biases, NEOX RoPE.</summary>
    Qwen2,

    /// <summary>"qwen3": per-head RMSNorm of Q and K before RoPE, NEOX RoPE, explicit head size.</summary>
    Qwen3,

    /// <summary>"phi3": fused QKV and gate/up tensors, NEOX RoPE (partial where the keys say), LongRoPE factors.</summary>
    Phi3,

    /// <summary>"gemma2": scaled embedding, GeGLU, post norms, logit soft-capping, alternating sliding-window layers.</summary>
    Gemma2,

    /// <summary>"gemma3" (text): gemma2 without soft-capping, with Q/K norms and local/global RoPE bases.</summary>
    Gemma3,

    /// <summary>"deci" (DeciLM / Nemotron): per-layer head, KV head and feed-forward counts.</summary>
    Deci,
}

/// <summary>Which value pairs RoPE rotates (llama.cpp's LLAMA_ROPE_TYPE_NORM and _NEOX).</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (x[2i], x[2i+1]).</summary>
    Normal,

    /// <summary>Halves: (x[i], x[i + rope_dims/2]).</summary>
    Neox,
}

/// <summary>The gate activation of the gated feed-forward block.</summary>
public enum FeedForwardActivation
{
    /// <summary>SwiGLU: silu(gate) * up.</summary>
    Silu,

    /// <summary>GeGLU: gelu(gate) * up, with ggml's tanh approximation.</summary>
    GeluTanh,
}

public static class ModelArchitectures
{
    private static readonly (ModelArchitecture Arch, string Name)[] Names =
    [
        (ModelArchitecture.Llama, "llama"), (ModelArchitecture.Qwen2, "qwen2"), (ModelArchitecture.Qwen3, "qwen3"),
        (ModelArchitecture.Phi3, "phi3"), (ModelArchitecture.Gemma2, "gemma2"), (ModelArchitecture.Gemma3, "gemma3"),
        (ModelArchitecture.Deci, "deci"),
    ];

    /// <summary>The GGUF name (the prefix of the architecture's metadata keys).</summary>
    public static string Name(this ModelArchitecture arch) => Names.First(n => n.Arch == arch).Name;

    public static bool TryParse(string name, out ModelArchitecture arch)
    {
        foreach (var n in Names)
        {
            if (n.Name != name) continue;
            arch = n.Arch;
            return true;
        }
        arch = default;
        return false;
    }

    public static IEnumerable<string> All => Names.Select(n => n.Name);
}
