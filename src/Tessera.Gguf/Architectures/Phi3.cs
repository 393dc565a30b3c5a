namespace Tessera.Gguf.Architectures;

/// <summary>phi3: fused attn_qkv, ffn_up holding [gate; up], NEOX rope.</summary>
public static class Phi3
{
    public static ArchSpec Spec(HParams h) =>
        (h.Base(NormKind.Rms, RopeKind.Neox, "attention.layer_norm_rms_epsilon") with { FusedQkv = true, Ffn = FfnKind.FusedGatedSilu }).Validated();
}
