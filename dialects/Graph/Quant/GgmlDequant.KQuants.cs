using System.Buffers.Binary;

namespace Tessera.Dialects.Graph;

/// <summary>The 256-weight super-block formats: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_XS.</summary>
public static partial class GgmlDequant
{
    private const int QK = 256;

    /// <summary>
    /// The 6-bit scale and min of sub-block <paramref name="j"/> (0..7) from Q4_K/Q5_K's 12 packed bytes, ggml's
    /// <c>get_scale_min_k4</c>: sub-blocks 0-3 use the low 6 bits of bytes j and j+4; sub-blocks 4-7 take their low
    /// 4 bits from the nibbles of byte j+4 and their top 2 bits from the top bits of bytes j-4 (scale) and j (min).
    /// </summary>
    public static (int Scale, int Min) ScaleMinK4(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    /// <summary>
    /// Q3_K's sixteen 6-bit scales (unbiased: still to have 32 subtracted) from its 12 packed bytes: scale k's low
    /// 4 bits are nibble (k / 8) of byte k % 8, its top 2 bits are bits 2*(k / 4) of byte 8 + k % 4.
    /// </summary>
    public static void Q3KScales(ReadOnlySpan<byte> packed, Span<sbyte> scales)
    {
        uint a0 = BinaryPrimitives.ReadUInt32LittleEndian(packed), a1 = BinaryPrimitives.ReadUInt32LittleEndian(packed[4..]);
        uint tmp = BinaryPrimitives.ReadUInt32LittleEndian(packed[8..]);
        const uint kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        Span<uint> aux =
        [
            (a0 & kmask2) | (((tmp >> 0) & kmask1) << 4),
            (a1 & kmask2) | (((tmp >> 2) & kmask1) << 4),
            ((a0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4),
            ((a1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4),
        ];
        for (int k = 0; k < 16; k++)
        {
            scales[k] = (sbyte)(byte)(aux[k / 4] >> (8 * (k % 4)));
        }
    }

    // block_q2_K: u8 scales[16] (lo nibble scale, hi nibble min); u8 qs[64]; half d; half dmin.
    private static void Q2_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / QK; i < nb; i++)
        {
            var b = x.Slice(i * 84, 84);
            float d = Half(b, 80), min = Half(b, 82);
            var yb = y.Slice(i * QK, QK);
            int o = 0, isc = 0;
            for (int n = 0; n < 2; n++)
            {
                var q = b.Slice(16 + 32 * n, 32);
                for (int shift = 0; shift < 8; shift += 2)
                {
                    for (int half = 0; half < 2; half++)
                    {
                        byte sc = b[isc++];
                        float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                        for (int l = 0; l < 16; l++)
                        {
                            yb[o++] = dl * ((q[16 * half + l] >> shift) & 3) - ml;
                        }
                    }
                }
            }
        }
    }

    // block_q3_K: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d. y = d * (scale - 32) * (q2 - (hbit ? 0 : 4)).
    private static void Q3_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        Span<sbyte> scales = stackalloc sbyte[16];
        for (int i = 0, nb = y.Length / QK; i < nb; i++)
        {
            var b = x.Slice(i * 110, 110);
            float dAll = Half(b, 108);
            var hm = b[..32];
            Q3KScales(b.Slice(96, 12), scales);
            var yb = y.Slice(i * QK, QK);
            int o = 0, isc = 0, m = 1;
            for (int n = 0; n < 2; n++)
            {
                var q = b.Slice(32 + 32 * n, 32);
                for (int shift = 0; shift < 8; shift += 2, m <<= 1)
                {
                    for (int half = 0; half < 2; half++)
                    {
                        float dl = dAll * (scales[isc++] - 32);
                        for (int l = 16 * half; l < 16 * half + 16; l++)
                        {
                            yb[o++] = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                        }
                    }
                }
            }
        }
    }

    // block_q4_K: half d; half dmin; u8 scales[12]; u8 qs[128]. y = d*sc * q4 - dmin*m per 32-weight sub-block.
    private static void Q4_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / QK; i < nb; i++)
        {
            var b = x.Slice(i * 144, 144);
            float d = Half(b, 0), min = Half(b, 2);
            var sc = b.Slice(4, 12);
            var yb = y.Slice(i * QK, QK);
            for (int j = 0, o = 0; j < 4; j++)
            {
                var q = b.Slice(16 + 32 * j, 32);
                var (s1, m1) = ScaleMinK4(2 * j, sc);
                var (s2, m2) = ScaleMinK4(2 * j + 1, sc);
                float d1 = d * s1, dm1 = min * m1, d2 = d * s2, dm2 = min * m2;
                for (int l = 0; l < 32; l++)
                {
                    yb[o++] = d1 * (q[l] & 0xF) - dm1;
                }

                for (int l = 0; l < 32; l++)
                {
                    yb[o++] = d2 * (q[l] >> 4) - dm2;
                }
            }
        }
    }

    // block_q5_K: half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]. As Q4_K plus a 5th bit from qh.
    private static void Q5_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / QK; i < nb; i++)
        {
            var b = x.Slice(i * 176, 176);
            float d = Half(b, 0), min = Half(b, 2);
            var sc = b.Slice(4, 12);
            var qh = b.Slice(16, 32);
            var yb = y.Slice(i * QK, QK);
            int u1 = 1, u2 = 2;
            for (int j = 0, o = 0; j < 4; j++, u1 <<= 2, u2 <<= 2)
            {
                var ql = b.Slice(48 + 32 * j, 32);
                var (s1, m1) = ScaleMinK4(2 * j, sc);
                var (s2, m2) = ScaleMinK4(2 * j + 1, sc);
                float d1 = d * s1, dm1 = min * m1, d2 = d * s2, dm2 = min * m2;
                for (int l = 0; l < 32; l++)
                {
                    yb[o++] = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - dm1;
                }

                for (int l = 0; l < 32; l++)
                {
                    yb[o++] = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - dm2;
                }
            }
        }
    }

    // block_q6_K: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d. y = d * scale * (q6 - 32).
    private static void Q6_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / QK; i < nb; i++)
        {
            var b = x.Slice(i * 210, 210);
            float d = Half(b, 208);
            for (int n = 0; n < 2; n++)
            {
                var ql = b.Slice(64 * n, 64);
                var qh = b.Slice(128 + 32 * n, 32);
                var sc = b.Slice(192 + 8 * n, 8);
                var yb = y.Slice(i * QK + 128 * n, 128);
                for (int l = 0; l < 32; l++)
                {
                    int isc = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    yb[l] = d * (sbyte)sc[isc] * q1;
                    yb[l + 32] = d * (sbyte)sc[isc + 2] * q2;
                    yb[l + 64] = d * (sbyte)sc[isc + 4] * q3;
                    yb[l + 96] = d * (sbyte)sc[isc + 6] * q4;
                }
            }
        }
    }

    // block_q8_K: f32 d; i8 qs[256]; i16 bsums[16]. y = d * q.
    private static void Q8_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int i = 0, nb = y.Length / QK; i < nb; i++)
        {
            var b = x.Slice(i * 292, 292);
            float d = BinaryPrimitives.ReadSingleLittleEndian(b);
            for (int j = 0; j < QK; j++)
            {
                y[i * QK + j] = d * (sbyte)b[4 + j];
            }
        }
    }

    // block_iq4_xs: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]. Eight 32-weight sub-blocks with 6-bit scales.
    private static void IQ4_XS(ReadOnlySpan<byte> x, Span<float> y)
    {
        var kv = KValuesIq4Nl;
        for (int i = 0, nb = y.Length / QK; i < nb; i++)
        {
            var b = x.Slice(i * 136, 136);
            float d = Half(b, 0);
            int scalesH = BinaryPrimitives.ReadUInt16LittleEndian(b[2..]);
            for (int ib = 0; ib < 8; ib++)
            {
                int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
                float dl = d * (ls - 32);
                var qs = b.Slice(8 + 16 * ib, 16);
                var yb = y.Slice(i * QK + 32 * ib, 32);
                for (int j = 0; j < 16; j++)
                {
                    yb[j] = dl * kv[qs[j] & 0xF];
                    yb[j + 16] = dl * kv[qs[j] >> 4];
                }
            }
        }
    }
}
