using System.Buffers.Binary;

namespace Tessera.Gguf;

/// <summary>
/// Row encoders for the types <c>tessera gen</c> writes: F32, F16, BF16 and ggml's reference (deterministic)
/// quantizers for Q8_0 and Q4_0 (<c>quantize_row_q8_0_ref</c>, <c>quantize_row_q4_0_ref</c>), bit for bit.
/// </summary>
public static class GgmlQuantize
{
    public const int QK = 32;

    /// <summary>Encodes <paramref name="x"/> as <paramref name="type"/> into <paramref name="dst"/>, which must be exactly the encoded size.</summary>
    public static void Encode(GgmlType type, ReadOnlySpan<float> x, Span<byte> dst)
    {
        long want = GgufWriter.ByteSize(type, [x.Length]);
        if (dst.Length != want)
        {
            throw new ArgumentException($"{x.Length} {type} values take {want} bytes, not {dst.Length}");
        }

        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < x.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], x[i]);
                }

                break;
            case GgmlType.F16:
                for (int i = 0; i < x.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(dst[(2 * i)..], (Half)x[i]);
                }

                break;
            case GgmlType.BF16:
                for (int i = 0; i < x.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], ToBf16(x[i]));
                }

                break;
            case GgmlType.Q8_0:
                QuantizeQ8_0(x, dst);
                break;
            case GgmlType.Q4_0:
                QuantizeQ4_0(x, dst);
                break;
            default:
                throw new NotSupportedException($"encoding {type} is not supported");
        }
    }

    /// <summary>ggml's <c>GGML_FP32_TO_BF16</c>: round to nearest even, NaN kept quiet.</summary>
    public static ushort ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffff) > 0x7f800000)
        {
            return (ushort)((u >> 16) | 64);
        }

        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    public static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        for (int b = 0; b < x.Length / QK; b++)
        {
            var xs = x.Slice(b * QK, QK);
            var blk = y.Slice(b * 34, 34);
            float amax = 0;
            foreach (var v in xs)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            BinaryPrimitives.WriteHalfLittleEndian(blk, (Half)d);
            for (int j = 0; j < QK; j++)
            {
                blk[2 + j] = (byte)(sbyte)MathF.Round(xs[j] * id, MidpointRounding.AwayFromZero);
            }
        }
    }

    public static void QuantizeQ4_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        for (int b = 0; b < x.Length / QK; b++)
        {
            var xs = x.Slice(b * QK, QK);
            var blk = y.Slice(b * 18, 18);
            float amax = 0, max = 0;
            foreach (var v in xs)
            {
                if (amax < MathF.Abs(v))
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            BinaryPrimitives.WriteHalfLittleEndian(blk, (Half)d);
            for (int j = 0; j < QK / 2; j++)
            {
                int xi0 = Math.Min(15, (int)(sbyte)(int)(xs[j] * id + 8.5f));
                int xi1 = Math.Min(15, (int)(sbyte)(int)(xs[QK / 2 + j] * id + 8.5f));
                blk[2 + j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }
}
