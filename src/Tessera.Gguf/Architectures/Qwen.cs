namespace Tessera.Gguf.Architectures;

/// <summary>qwen2 (q/k/v biases, picked up from the file) and qwen3 (per-head q/k rms norms); NEOX rope.</summary>
public static class Qwen
{
    public static ArchSpec Spec2(HParams h) => h.Base(NormKind.Rms, RopeKind.Neox, "attention.layer_norm_rms_epsilon").Validated();

    public static ArchSpec Spec3(HParams h) => (h.Base(NormKind.Rms, RopeKind.Neox, "attention.layer_norm_rms_epsilon") with { QkNorm = true }).Validated();
}
