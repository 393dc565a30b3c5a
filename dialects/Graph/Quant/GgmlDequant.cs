using System.Buffers.Binary;

namespace Tessera.Dialects.Graph;

/// <summary>
/// Decodes ggml block-quantized data to float32 with exactly the semantics of ggml's <c>dequantize_row_*</c>
/// (<c>to_float</c>): the same fp16 scale decoding, the same bit unpacking and the same order of float32
/// multiplications, so every result has the same bits as ggml's. Blocks are little-endian, laid out as in
/// ggml-common.h. The per-format decoders live in GgmlDequant.Legacy.cs (32-weight blocks) and
/// GgmlDequant.KQuants.cs (256-weight super-blocks).
/// </summary>
public static partial class GgmlDequant
{
    /// <summary>Whether <see cref="Dequantize"/> decodes <paramref name="format"/>.</summary>
    public static bool Supports(BlockFormat format) => format is not BlockFormat.Q8_1;

    /// <summary>
    /// Decodes <paramref name="count"/> weights of <paramref name="format"/> from <paramref name="data"/>.
    /// Throws <see cref="EvalException"/> unless <paramref name="count"/> is a whole number of blocks and
    /// <paramref name="data"/> holds exactly that many blocks.
    /// </summary>
    public static float[] Dequantize(BlockFormat format, ReadOnlySpan<byte> data, long count)
    {
        CheckLength(format, data.Length, count);
        if (count > Array.MaxLength)
        {
            throw new EvalException($"{count} {Name(format)} weights do not fit one float array; decode row by row");
        }

        var y = new float[count];
        DequantizeInto(format, data, y);
        return y;
    }

    /// <summary>Decodes <paramref name="data"/> into all of <paramref name="y"/> (whose length is the weight count).</summary>
    public static void DequantizeInto(BlockFormat format, ReadOnlySpan<byte> data, Span<float> y)
    {
        CheckLength(format, data.Length, y.Length);
        switch (format)
        {
            case BlockFormat.Q4_0: Q4_0(data, y); break;
            case BlockFormat.Q4_1: Q4_1(data, y); break;
            case BlockFormat.Q5_0: Q5_0(data, y); break;
            case BlockFormat.Q5_1: Q5_1(data, y); break;
            case BlockFormat.Q8_0: Q8_0(data, y); break;
            case BlockFormat.IQ4_NL: IQ4_NL(data, y); break;
            case BlockFormat.MXFP4: MXFP4(data, y); break;
            case BlockFormat.Q2_K: Q2_K(data, y); break;
            case BlockFormat.Q3_K: Q3_K(data, y); break;
            case BlockFormat.Q4_K: Q4_K(data, y); break;
            case BlockFormat.Q5_K: Q5_K(data, y); break;
            case BlockFormat.Q6_K: Q6_K(data, y); break;
            case BlockFormat.Q8_K: Q8_K(data, y); break;
            case BlockFormat.IQ4_XS: IQ4_XS(data, y); break;
            default: throw new EvalException($"ggml has no dequantization for {Name(format)}");
        }
    }

    /// <summary>
    /// Throws <see cref="EvalException"/> unless <paramref name="count"/> is a multiple of the block size and
    /// <paramref name="bytes"/> is exactly the blocks' byte size.
    /// </summary>
    public static void CheckLength(BlockFormat format, long bytes, long count)
    {
        var t = BlockQuantType.All.FirstOrDefault(b => b.Format == format)
            ?? throw new EvalException($"unknown ggml block format {(int)format}");
        if (count < 0 || count % t.BlockSize != 0)
        {
            throw new EvalException($"{count} weights are not a whole number of {t.Name} blocks of {t.BlockSize}");
        }

        long need = count / t.BlockSize * t.BytesPerBlock;
        if (bytes != need)
        {
            throw new EvalException($"{count} {t.Name} weights need {need} bytes ({count / t.BlockSize} blocks of {t.BytesPerBlock}) but {bytes} were given");
        }
    }

    /// <summary>IEEE binary16 → float32 (exact), as ggml's GGML_FP16_TO_FP32.</summary>
    public static float Half(ReadOnlySpan<byte> b, int offset) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(b[offset..]));

    /// <summary>Little-endian binary16 data → float32.</summary>
    public static float[] F16ToF32(ReadOnlySpan<byte> data)
    {
        if (data.Length % 2 != 0)
        {
            throw new EvalException($"f16 data has an odd number of bytes ({data.Length})");
        }

        var y = new float[data.Length / 2];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = Half(data, 2 * i);
        }

        return y;
    }

    /// <summary>Little-endian bfloat16 data → float32 (the 16 bits become the top half of the float32).</summary>
    public static float[] Bf16ToF32(ReadOnlySpan<byte> data)
    {
        if (data.Length % 2 != 0)
        {
            throw new EvalException($"bf16 data has an odd number of bytes ({data.Length})");
        }

        var y = new float[data.Length / 2];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) << 16);
        }

        return y;
    }

    private static string Name(BlockFormat f) => BlockQuantType.All.FirstOrDefault(b => b.Format == f)?.Name ?? ((int)f).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
