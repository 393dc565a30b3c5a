namespace Tessera.Gguf.Architectures;

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
