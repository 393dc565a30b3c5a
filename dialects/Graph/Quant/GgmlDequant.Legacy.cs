using System.Buffers.Binary;

namespace Tessera.Dialects.Graph;

/// <summary>The 32-weight block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4.</summary>
public static partial class GgmlDequant
{
    /// <summary>IQ4_NL's (and IQ4_XS's) non-linear 4-bit codebook, ggml's <c>kvalues_iq4nl</c>.</summary>
    public static ReadOnlySpan<sbyte> KValuesIq4Nl => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>MXFP4's FP4 (E2M1) values doubled, ggml's <c>kvalues_mxfp4</c> (the scale is halved to match).</summary>
    public static ReadOnlySpan<sbyte> KValuesMxfp4 => [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

    /// <summary>An E8M0 scale 2^(e-127) halved, ggml's GGML_E8M0_TO_FP32_HALF (subnormal for e &lt; 2).</summary>
    public static float E8M0Half(byte e) => BitConverter.UInt32BitsToSingle(e < 2 ? 0x00200000u << e : (uint)(e - 1) << 23);

    // block_q4_0: half d; u8 qs[16]. y[j] = (lo nibble - 8) * d, y[j+16] = (hi nibble - 8) * d.
    private static void Q4_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / 32; i < nb; i++)
        {
            var b = x.Slice(i * 18, 18);
            float d = Half(b, 0);
            var yb = y.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int x0 = (b[2 + j] & 0x0F) - 8;
                int x1 = (b[2 + j] >> 4) - 8;
                yb[j] = x0 * d;
                yb[j + 16] = x1 * d;
            }
        }
    }

    // block_q4_1: half d; half m; u8 qs[16]. y = nibble * d + m.
    private static void Q4_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / 32; i < nb; i++)
        {
            var b = x.Slice(i * 20, 20);
            float d = Half(b, 0), m = Half(b, 2);
            var yb = y.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int x0 = b[4 + j] & 0x0F;
                int x1 = b[4 + j] >> 4;
                yb[j] = x0 * d + m;
                yb[j + 16] = x1 * d + m;
            }
        }
    }

    // block_q5_0: half d; u8 qh[4] (bit j = 5th bit of weight j); u8 qs[16]. y = (q5 - 16) * d.
    private static void Q5_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / 32; i < nb; i++)
        {
            var b = x.Slice(i * 22, 22);
            float d = Half(b, 0);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[2..]);
            var yb = y.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int xh0 = (int)((qh >> j) << 4) & 0x10;
                int xh1 = (int)(qh >> (j + 12)) & 0x10;
                int x0 = ((b[6 + j] & 0x0F) | xh0) - 16;
                int x1 = ((b[6 + j] >> 4) | xh1) - 16;
                yb[j] = x0 * d;
                yb[j + 16] = x1 * d;
            }
        }
    }

    // block_q5_1: half d; half m; u8 qh[4]; u8 qs[16]. y = q5 * d + m.
    private static void Q5_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / 32; i < nb; i++)
        {
            var b = x.Slice(i * 24, 24);
            float d = Half(b, 0), m = Half(b, 2);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
            var yb = y.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int xh0 = (int)((qh >> j) << 4) & 0x10;
                int xh1 = (int)(qh >> (j + 12)) & 0x10;
                int x0 = (b[8 + j] & 0x0F) | xh0;
                int x1 = (b[8 + j] >> 4) | xh1;
                yb[j] = x0 * d + m;
                yb[j + 16] = x1 * d + m;
            }
        }
    }

    // block_q8_0: half d; i8 qs[32]. y = q * d.
    private static void Q8_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / 32; i < nb; i++)
        {
            var b = x.Slice(i * 34, 34);
            float d = Half(b, 0);
            var yb = y.Slice(i * 32, 32);
            for (int j = 0; j < 32; j++)
            {
                yb[j] = (sbyte)b[2 + j] * d;
            }
        }
    }

    // block_iq4_nl: half d; u8 qs[16]. y = d * kvalues_iq4nl[nibble].
    private static void IQ4_NL(ReadOnlySpan<byte> x, Span<float> y)
    {
        var kv = KValuesIq4Nl;
        for (int i = 0, nb = y.Length / 32; i < nb; i++)
        {
            var b = x.Slice(i * 18, 18);
            float d = Half(b, 0);
            var yb = y.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                yb[j] = d * kv[b[2 + j] & 0x0F];
                yb[j + 16] = d * kv[b[2 + j] >> 4];
            }
        }
    }

    // block_mxfp4: u8 e (E8M0); u8 qs[16]. y = kvalues_mxfp4[nibble] * (2^(e-127) / 2).
    private static void MXFP4(ReadOnlySpan<byte> x, Span<float> y)
    {
        var kv = KValuesMxfp4;
        for (int i = 0, nb = y.Length / 32; i < nb; i++)
        {
            var b = x.Slice(i * 17, 17);
            float d = E8M0Half(b[0]);
            var yb = y.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                yb[j] = kv[b[1 + j] & 0x0F] * d;
                yb[j + 16] = kv[b[1 + j] >> 4] * d;
            }
        }
    }
}
