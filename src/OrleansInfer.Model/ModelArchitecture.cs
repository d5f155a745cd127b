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

/// <summary>
/// Which optional tensors and fixed choices each family has, as llama.cpp's loader (llama-model.cpp load_tensors) and
/// graphs (src/models/*.cpp) use them: the writer, the loader and the presets all ask here.
/// </summary>
public static class FamilyTraits
{
    /// <summary>blk.N.attn_q/k/v.bias are required (qwen2).</summary>
    public static bool HasQkvBiases(this ModelArchitecture a) => a == ModelArchitecture.Qwen2;

    /// <summary>blk.N.attn_q_norm / attn_k_norm are required (qwen3, gemma3).</summary>
    public static bool HasQkNorms(this ModelArchitecture a) => a is ModelArchitecture.Qwen3 or ModelArchitecture.Gemma3;

    /// <summary>blk.N.post_attention_norm / post_ffw_norm are required (gemma2, gemma3).</summary>
    public static bool HasPostNorms(this ModelArchitecture a) => a is ModelArchitecture.Gemma2 or ModelArchitecture.Gemma3;

    /// <summary>Q/K/V are one attn_qkv matrix and gate/up one ffn_up matrix of twice the width (phi3).</summary>
    public static bool FusesQkvAndGateUp(this ModelArchitecture a) => a == ModelArchitecture.Phi3;

    /// <summary>The classifier is always the token embedding (gemma2 has no output.weight in llama.cpp).</summary>
    public static bool AlwaysTied(this ModelArchitecture a) => a == ModelArchitecture.Gemma2;

    public static bool IsGemma(this ModelArchitecture a) => a is ModelArchitecture.Gemma2 or ModelArchitecture.Gemma3;

    /// <summary>llama_model_rope_type: NEOX for qwen2/qwen3/phi3/gemma2/gemma3, NORM for llama and deci.</summary>
    public static RopeStyle RopeStyleOf(this ModelArchitecture a) =>
        a is ModelArchitecture.Llama or ModelArchitecture.Deci ? RopeStyle.Normal : RopeStyle.Neox;

    public static FeedForwardActivation ActivationOf(this ModelArchitecture a) =>
        a.IsGemma() ? FeedForwardActivation.GeluTanh : FeedForwardActivation.Silu;
}
