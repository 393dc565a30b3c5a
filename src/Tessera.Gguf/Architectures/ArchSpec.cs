namespace Tessera.Gguf.Architectures;

public enum NormKind { Rms, Layer }

/// <summary>None: no rotary embedding (learned positions). Norm: llama.cpp's NORM mode, adjacent pairs. Neox: halves.</summary>
public enum RopeKind { None, Norm, Neox }

/// <summary>GatedSilu: silu(gate)·up; GatedGeluTanh: gelu_tanh(gate)·up; FusedGatedSilu: ffn_up holds [gate; up]; Gelu: gelu_tanh(up).</summary>
public enum FfnKind { GatedSilu, GatedGeluTanh, FusedGatedSilu, Gelu }

/// <summary>
/// What the transformer builder needs to know about one architecture. Biases are not listed: a linear or norm uses
/// <c>&lt;name&gt;.bias</c> when the file has it.
/// </summary>
public sealed record ArchSpec(string Arch, GgufFile File)
{
    public long Layers { get; init; }
    public long Hidden { get; init; }
    public long Heads { get; init; }
    public long KvHeads { get; init; }
    public long HeadDim { get; init; }
    public long Context { get; init; }
    public double Epsilon { get; init; }
    public NormKind Norm { get; init; }
    public RopeKind Rope { get; init; }
    public double RopeBase { get; init; }
    public long RopeDims { get; init; }
    public FfnKind Ffn { get; init; } = FfnKind.GatedSilu;

    /// <summary>Multiply the token embeddings by this (gemma: √hidden).</summary>
    public double? EmbedScale { get; init; }

    /// <summary>q and k get per-head rms norms (qwen3: attn_q_norm / attn_k_norm).</summary>
    public bool QkNorm { get; init; }

    /// <summary>One attn_qkv linear instead of attn_q/attn_k/attn_v.</summary>
    public bool FusedQkv { get; init; }

    /// <summary>Learned absolute position embeddings (position_embd.weight).</summary>
    public bool LearnedPositions { get; init; }

    /// <summary>Checks the shapes the builder relies on; a mismatch is a BadShape diagnostic.</summary>
    public ArchSpec Validated()
    {
        string? why =
            Layers <= 0 || Hidden <= 0 || Heads <= 0 || KvHeads <= 0 || HeadDim <= 0 || Context <= 0 ? "non-positive layer, width, head or context count"
            : Heads % KvHeads != 0 ? $"head_count {Heads} is not a multiple of head_count_kv {KvHeads}"
            : Rope != RopeKind.None && (RopeDims <= 0 || RopeDims > HeadDim || RopeDims % 2 != 0) ? $"rope.dimension_count {RopeDims} does not fit head dimension {HeadDim}"
            : null;
        return why is null ? this : throw GgufCodes.Error(GgufCodes.BadShape, File.Path, $"{Arch}: {why}");
    }
}
