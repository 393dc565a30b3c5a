using System.Globalization;
using System.Text;

namespace Tessera.IR;

/// <summary>How the scale and zero point of a <see cref="QuantizedType"/> vary over the tensor.</summary>
public enum QuantGranularity { PerTensor, PerAxis, PerGroup }

/// <summary>
/// Uniform affine quantization: real = scale * (stored - zeroPoint).
/// Per-tensor holds one scale; per-axis one per index of <see cref="Axis"/>; per-group one per
/// <see cref="GroupSize"/> consecutive elements along <see cref="Axis"/>. Per-group scales may be left
/// out of the type (an empty list) when they travel as a tensor operand, as GGUF and MatMulNBits do.
/// </summary>
public sealed class QuantizedType : Type
{
    public QuantizedType(IntegerType storage, FloatType expressed, int? axis, int? groupSize,
        IReadOnlyList<double> scales, IReadOnlyList<long> zeroPoints)
    {
        Storage = storage;
        Expressed = expressed;
        Axis = axis;
        GroupSize = groupSize;
        Scales = scales.ToArray();
        ZeroPoints = zeroPoints.ToArray();
    }

    public IntegerType Storage { get; }
    public FloatType Expressed { get; }
    public int? Axis { get; }
    public int? GroupSize { get; }
    public IReadOnlyList<double> Scales { get; }
    public IReadOnlyList<long> ZeroPoints { get; }

    public QuantGranularity Granularity =>
        Axis is null ? QuantGranularity.PerTensor : GroupSize is null ? QuantGranularity.PerAxis : QuantGranularity.PerGroup;

    public static QuantizedType PerTensor(IntegerType storage, FloatType expressed, double scale, long zeroPoint) =>
        new(storage, expressed, null, null, [scale], [zeroPoint]);

    /// <summary>The representable stored range, e.g. [-128, 127] for i8 and [0, 15] for ui4.</summary>
    public (long Min, long Max) StorageRange => Storage.IsUnsigned
        ? (0, Storage.Width >= 64 ? long.MaxValue : (1L << Storage.Width) - 1)
        : (Storage.Width >= 64 ? long.MinValue : -(1L << (Storage.Width - 1)), Storage.Width >= 64 ? long.MaxValue : (1L << (Storage.Width - 1)) - 1);

    protected override string BuildText()
    {
        var sb = new StringBuilder("!quant.uniform<");
        sb.Append(Storage.Text).Append(':').Append(Expressed.Text);
        if (Axis is int axis)
        {
            sb.Append(':').Append(axis.ToString(CultureInfo.InvariantCulture));
            if (GroupSize is int g)
            {
                sb.Append('/').Append(g.ToString(CultureInfo.InvariantCulture));
            }
        }

        if (Granularity == QuantGranularity.PerTensor)
        {
            sb.Append(", ").Append(Pair(0));
        }
        else if (Scales.Count > 0)
        {
            sb.Append(", {");
            for (int i = 0; i < Scales.Count; i++)
            {
                sb.Append(i == 0 ? "" : ", ").Append(Pair(i));
            }

            sb.Append('}');
        }

        sb.Append('>');
        return sb.ToString();
    }

    private string Pair(int i) => FloatFormat.Format(Scales[i]) + ":" + ZeroPoints[i].ToString(CultureInfo.InvariantCulture);
}

/// <summary>The ggml block formats. Values match ggml's <c>ggml_type</c> enum so GGUF files map directly.</summary>
public enum BlockFormat
{
    Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ4_NL = 20, IQ4_XS = 23, MXFP4 = 39,
}

/// <summary>
/// An opaque block-quantized element type (<c>!ggml.q4_k</c>): a tensor of these holds
/// <see cref="BlockSize"/> weights in every <see cref="BytesPerBlock"/> bytes along its innermost dimension.
/// </summary>
public sealed class BlockQuantType : Type
{
    private BlockQuantType(BlockFormat format, string name, int blockSize, int bytesPerBlock)
    {
        Format = format;
        Name = name;
        BlockSize = blockSize;
        BytesPerBlock = bytesPerBlock;
    }

    public BlockFormat Format { get; }
    public string Name { get; }
    public int BlockSize { get; }
    public int BytesPerBlock { get; }

    public static readonly IReadOnlyList<BlockQuantType> All =
    [
        new(BlockFormat.Q4_0, "q4_0", 32, 18),
        new(BlockFormat.Q4_1, "q4_1", 32, 20),
        new(BlockFormat.Q5_0, "q5_0", 32, 22),
        new(BlockFormat.Q5_1, "q5_1", 32, 24),
        new(BlockFormat.Q8_0, "q8_0", 32, 34),
        new(BlockFormat.Q8_1, "q8_1", 32, 36),
        new(BlockFormat.Q2_K, "q2_k", 256, 84),
        new(BlockFormat.Q3_K, "q3_k", 256, 110),
        new(BlockFormat.Q4_K, "q4_k", 256, 144),
        new(BlockFormat.Q5_K, "q5_k", 256, 176),
        new(BlockFormat.Q6_K, "q6_k", 256, 210),
        new(BlockFormat.Q8_K, "q8_k", 256, 292),
        new(BlockFormat.IQ4_NL, "iq4_nl", 32, 18),
        new(BlockFormat.IQ4_XS, "iq4_xs", 256, 136),
        new(BlockFormat.MXFP4, "mxfp4", 32, 17),
    ];

    public static BlockQuantType Get(BlockFormat f) => All.First(t => t.Format == f);
    public static BlockQuantType? ByName(string name) => All.FirstOrDefault(t => t.Name == name);

    /// <summary>Bytes needed for <paramref name="elements"/> weights, or null if they are not whole blocks. Checked arithmetic.</summary>
    public long? ByteSize(long elements) => elements % BlockSize != 0 ? null : checked(elements / BlockSize * BytesPerBlock);

    protected override string BuildText() => "!ggml." + Name;
}
