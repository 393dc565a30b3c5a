namespace Tessera.Gguf.Architectures;

/// <summary>gpt2: learned positions, layer norms with bias, fused attn_qkv, GELU (tanh) MLP, biases everywhere.</summary>
public static class Gpt2
{
    public static ArchSpec Spec(HParams h) =>
        (h.Base(NormKind.Layer, RopeKind.None, "attention.layer_norm_epsilon") with { FusedQkv = true, Ffn = FfnKind.Gelu, LearnedPositions = true }).Validated();
}
