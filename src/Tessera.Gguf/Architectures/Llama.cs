namespace Tessera.Gguf.Architectures;

/// <summary>llama (and Mistral): rms norms, NORM rope (convert_hf_to_gguf permuted the Q/K rows), SwiGLU.</summary>
public static class Llama
{
    public static ArchSpec Spec(HParams h) => h.Base(NormKind.Rms, RopeKind.Norm, "attention.layer_norm_rms_epsilon").Validated();
}
