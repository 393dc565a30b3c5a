namespace Tessera.Gguf.Architectures;

/// <summary>llama (and Mistral): rms norms, NORM rope (convert_hf_to_gguf permuted the Q/K rows), SwiGLU.</summary>
public static class Llama
{
    public static ArchSpec Spec(HParams h) => h.Base(NormKind.Rms, RopeKind.Norm, "attention.layer_norm_rms_epsilon").Validated();
}

/// <summary>qwen2 (q/k/v biases, picked up from the file) and qwen3 (per-head q/k rms norms); NEOX rope.</summary>
public static class Qwen
{
    public static ArchSpec Spec2(HParams h) => h.Base(NormKind.Rms, RopeKind.Neox, "attention.layer_norm_rms_epsilon").Validated();

    public static ArchSpec Spec3(HParams h) => (h.Base(NormKind.Rms, RopeKind.Neox, "attention.layer_norm_rms_epsilon") with { QkNorm = true }).Validated();
}

/// <summary>
/// gemma: embeddings scaled by √hidden, GELU-tanh gated FFN, NORM rope, tied output. convert_hf_to_gguf already
/// stores the rms norm weights as (1 + w), as llama.cpp reads them, so no +1 is added here.
/// </summary>
public static class Gemma
{
    public static ArchSpec Spec(HParams h)
    {
        var s = h.Base(NormKind.Rms, RopeKind.Norm, "attention.layer_norm_rms_epsilon");
        return (s with { Ffn = FfnKind.GatedGeluTanh, EmbedScale = Math.Sqrt(s.Hidden) }).Validated();
    }
}

/// <summary>phi3: fused attn_qkv, ffn_up holding [gate; up], NEOX rope.</summary>
public static class Phi3
{
    public static ArchSpec Spec(HParams h) =>
        (h.Base(NormKind.Rms, RopeKind.Neox, "attention.layer_norm_rms_epsilon") with { FusedQkv = true, Ffn = FfnKind.FusedGatedSilu }).Validated();
}

/// <summary>gpt2: learned positions, layer norms with bias, fused attn_qkv, GELU (tanh) MLP, biases everywhere.</summary>
public static class Gpt2
{
    public static ArchSpec Spec(HParams h) =>
        (h.Base(NormKind.Layer, RopeKind.None, "attention.layer_norm_epsilon") with { FusedQkv = true, Ffn = FfnKind.Gelu, LearnedPositions = true }).Validated();
}
