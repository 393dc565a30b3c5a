using Tessera.Dialects.Graph;

namespace Tessera.Tests.Gguf;

/// <summary>
/// The ggml formats the corpus has no file of, on blocks built by hand from the published layouts (ggml-common.h).
/// Each expectation is re-derived per weight from the layout description (which bits of which byte), not by running
/// the decoder's loop structure; scales are powers of two so every product is exact and the float bits are unambiguous.
/// </summary>
public class GgmlBlockLayoutTests
{
    private static readonly int[] Iq4Nl = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    private static byte[] H(double v) => BitConverter.GetBytes((Half)v);
    private static byte[] Rand(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }
    private static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static void Expect(BlockFormat f, byte[] block, Func<int, double> expected, int n)
    {
        var got = GgmlDequant.Dequantize(f, block, n);
        for (int e = 0; e < n; e++)
        {
            float want = (float)expected(e);
            Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got[e]), $"{f} weight {e}: expected {want:R}, got {got[e]:R}");
        }
    }

    // Weight e of a 32-weight block: e < 16 is the low nibble of qs[e], e >= 16 the high nibble of qs[e - 16].
    private static int Nibble(byte[] qs, int e) => e < 16 ? qs[e] & 15 : qs[e - 16] >> 4;

    [Fact]
    public void Q4_0_ScaleTimesNibbleMinus8()
    {
        var qs = Enumerable.Range(0, 16).Select(j => (byte)(j | ((15 - j) << 4))).ToArray();
        Expect(BlockFormat.Q4_0, Cat(H(0.5), qs), e => (Nibble(qs, e) - 8) * 0.5, 32);
        Assert.Equal(-4f, GgmlDequant.Dequantize(BlockFormat.Q4_0, Cat(H(0.5), qs), 32)[0]);
    }

    [Fact]
    public void Q4_1_ScaleTimesNibblePlusMin()
    {
        var qs = Enumerable.Range(0, 16).Select(j => (byte)(j | (((j + 3) & 15) << 4))).ToArray();
        Expect(BlockFormat.Q4_1, Cat(H(0.25), H(-1.5), qs), e => (Nibble(qs, e) * 0.25) - 1.5, 32);
    }

    [Fact]
    public void Q5_0_FifthBitFromQh()
    {
        var qs = Rand(16, 1);
        uint qh = 0xA5C3_0F96;
        // Weight e's fifth bit is bit e of the little-endian u32 qh.
        Expect(BlockFormat.Q5_0, Cat(H(2), BitConverter.GetBytes(qh), qs), e => ((Nibble(qs, e) | (int)(((qh >> e) & 1) << 4)) - 16) * 2.0, 32);
    }

    [Fact]
    public void Q5_1_FifthBitFromQhPlusMin()
    {
        var qs = Rand(16, 2);
        uint qh = 0x3C5A_F00F;
        Expect(BlockFormat.Q5_1, Cat(H(0.5), H(3), BitConverter.GetBytes(qh), qs), e => ((Nibble(qs, e) | (int)(((qh >> e) & 1) << 4)) * 0.5) + 3, 32);
    }

    [Fact]
    public void Q8_0_SignedBytesTimesScale()
    {
        var qs = Enumerable.Range(0, 32).Select(j => (byte)(sbyte)(j == 31 ? 127 : (j * 8) - 128)).ToArray();
        Expect(BlockFormat.Q8_0, Cat(H(0.125), qs), e => (sbyte)qs[e] * 0.125, 32);
    }

    [Fact]
    public void IQ4_NL_Codebook()
    {
        var qs = Enumerable.Range(0, 16).Select(j => (byte)(j | ((15 - j) << 4))).ToArray();
        Expect(BlockFormat.IQ4_NL, Cat(H(1.5), qs), e => Iq4Nl[Nibble(qs, e)] * 1.5, 32);
    }

    [Theory]
    [InlineData(128)] // scale 2
    [InlineData(127)] // scale 1
    [InlineData(200)]
    [InlineData(1)]   // 2^-126: halved, the decoder's scale is subnormal
    [InlineData(0)]   // 2^-127
    public void MXFP4_E8M0ScaleTimesE2M1(int e8)
    {
        var qs = Enumerable.Range(0, 16).Select(j => (byte)(j | ((15 - j) << 4))).ToArray();
        // E2M1: sign bit 3, exponent bits 2-1 (bias 1), mantissa bit 0; exponent 0 is subnormal (0 or 0.5).
        static double E2M1(int n)
        {
            int exp = (n >> 1) & 3, man = n & 1;
            double mag = exp == 0 ? man * 0.5 : (1 + (man * 0.5)) * Math.Pow(2, exp - 1);
            return (n & 8) != 0 ? 0 - mag : mag; // ggml's integer table has no -0: nibble 8 decodes to +0
        }

        Expect(BlockFormat.MXFP4, Cat([(byte)e8], qs), e => E2M1(Nibble(qs, e)) * Math.Pow(2, e8 - 127), 32);
    }

    [Fact]
    public void Q2_K_TwoBitQuantsWithFourBitScalesAndMins()
    {
        var scales = Rand(16, 3);
        var qs = Rand(64, 4);
        // Weight e: 16-weight group e/16 has scale (lo nibble) and min (hi nibble) in scales[e/16]; its 2 bits are
        // bits 2*s of qs[32*(e/128) + e%32], with s = (e%128)/32.
        Expect(BlockFormat.Q2_K, Cat(scales, qs, H(0.5), H(0.25)), e =>
        {
            int s = e % 128 / 32, q = (qs[(32 * (e / 128)) + (e % 32)] >> (2 * s)) & 3;
            return (0.5 * (scales[e / 16] & 15) * q) - (0.25 * (scales[e / 16] >> 4));
        }, 256);
    }

    [Fact]
    public void Q3_K_HmaskAndSixBitScales()
    {
        var hmask = Rand(32, 5);
        var qs = Rand(64, 6);
        var scales = Rand(12, 7);
        // Scale k (of 16-weight group k): low 4 bits are the low (k < 8) or high (k >= 8) nibble of scales[k % 8],
        // top 2 bits are bits 2*(k/4) of scales[8 + k%4]; minus 32.
        int Scale(int k) => ((k < 8 ? scales[k] & 15 : scales[k - 8] >> 4) | (((scales[8 + (k % 4)] >> (2 * (k / 4))) & 3) << 4)) - 32;

        // Weight e: low 2 bits as in Q2_K; its high bit is bit 4*(e/128) + s of hmask[e%32]; a clear bit subtracts 4.
        Expect(BlockFormat.Q3_K, Cat(hmask, qs, scales, H(0.25)), e =>
        {
            int s = e % 128 / 32, lo = (qs[(32 * (e / 128)) + (e % 32)] >> (2 * s)) & 3;
            int hi = (hmask[e % 32] >> ((4 * (e / 128)) + s)) & 1;
            return 0.25 * Scale(e / 16) * (lo - (hi == 1 ? 0 : 4));
        }, 256);
        Assert.Equal(-32, Scale(0) - (scales[0] & 15) - (((scales[8] & 3)) << 4));
    }

    // Q4_K/Q5_K: 32-weight sub-block b's 6-bit scale and min. b < 4: low 6 bits of bytes b and b+4. b >= 4: low 4
    // bits from the low/high nibble of byte b+4, top 2 bits from the top 2 bits of byte b-4 (scale) / byte b (min).
    private static (int Sc, int M) K4(byte[] s, int b) => b < 4
        ? (s[b] & 63, s[b + 4] & 63)
        : ((s[b + 4] & 15) + ((s[b - 4] >> 6) * 16), (s[b + 4] >> 4) + ((s[b] >> 6) * 16));

    // Q4_K/Q5_K weight e: 64-weight chunk c = e/64 uses qs[32c..32c+31], low nibbles for its first 32 weights.
    private static int K4Nibble(byte[] qs, int e) => e % 64 < 32 ? qs[(32 * (e / 64)) + (e % 32)] & 15 : qs[(32 * (e / 64)) + (e % 32)] >> 4;

    [Fact]
    public void Q4_K_PackedSixBitScalesAndMins()
    {
        var scales = Rand(12, 8);
        var qs = Rand(128, 9);
        Expect(BlockFormat.Q4_K, Cat(H(1.0 / 16), H(1.0 / 32), scales, qs), e =>
        {
            var (sc, m) = K4(scales, e / 32);
            return (sc / 16.0 * K4Nibble(qs, e)) - (m / 32.0);
        }, 256);
    }

    [Fact]
    public void Q5_K_FifthBitIsBitOfSubBlock()
    {
        var scales = Rand(12, 10);
        var qh = Rand(32, 11);
        var qs = Rand(128, 12);
        // Weight e's fifth bit is bit e/32 (its sub-block) of qh[e%32].
        Expect(BlockFormat.Q5_K, Cat(H(1.0 / 16), H(1.0 / 32), scales, qh, qs), e =>
        {
            var (sc, m) = K4(scales, e / 32);
            int q = K4Nibble(qs, e) + (((qh[e % 32] >> (e / 32)) & 1) * 16);
            return (sc / 16.0 * q) - (m / 32.0);
        }, 256);
    }

    [Fact]
    public void Q6_K_LowNibblesHighPairsSignedScales()
    {
        var ql = Rand(128, 13);
        var qh = Rand(64, 14);
        var scales = Rand(16, 15);
        scales[0] = 0x80; // -128
        // Weight e: half n = e/128, quarter g = (e%128)/32, l = e%32. Low 4 bits: nibble g/2 of ql[64n + 32*(g%2) + l];
        // high 2 bits: bits 2g of qh[32n + l]; minus 32; times the signed scale of its 16-weight group.
        Expect(BlockFormat.Q6_K, Cat(ql, qh, scales, H(1.0 / 64)), e =>
        {
            int n = e / 128, g = e % 128 / 32, l = e % 32;
            int lo = (ql[(64 * n) + (32 * (g % 2)) + l] >> (4 * (g / 2))) & 15, hi = (qh[(32 * n) + l] >> (2 * g)) & 3;
            return (sbyte)scales[e / 16] / 64.0 * ((lo | (hi << 4)) - 32);
        }, 256);
    }

    [Fact]
    public void IQ4_XS_SixBitScalesSplitOverScalesHAndScalesL()
    {
        var qs = Rand(128, 16);
        byte[] scalesL = [0x1F, 0xE2, 0x73, 0x0C];
        ushort scalesH = 0xB4E1;
        // Sub-block b (32 weights): low 4 bits are nibble b%2 of scales_l[b/2], top 2 bits are bits 2b of scales_h;
        // minus 32. Weight e: codebook index is nibble (e%32 >= 16) of qs[16*(e/32) + e%16].
        Expect(BlockFormat.IQ4_XS, Cat(H(0.125), BitConverter.GetBytes(scalesH), scalesL, qs), e =>
        {
            int b = e / 32, ls = ((scalesL[b / 2] >> (4 * (b % 2))) & 15) | (((scalesH >> (2 * b)) & 3) << 4);
            int idx = e % 32 < 16 ? qs[(16 * b) + (e % 16)] & 15 : qs[(16 * b) + (e % 16)] >> 4;
            return 0.125 * (ls - 32) * Iq4Nl[idx];
        }, 256);
    }

    [Fact]
    public void Q8_K_Float32ScaleTimesSignedBytes()
    {
        var qs = Rand(256, 17);
        Expect(BlockFormat.Q8_K, Cat(BitConverter.GetBytes(0.5f), qs, new byte[32]), e => (sbyte)qs[e] * 0.5, 256);
    }

    [Fact]
    public void F16AndBf16Widen()
    {
        Assert.Equal([1f, -2f, 0.5f, float.PositiveInfinity, MathF.Pow(2, -24), -0f, 65504f],
            GgmlDequant.F16ToF32([0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0x00, 0x7C, 0x01, 0x00, 0x00, 0x80, 0xFF, 0x7B]));
        var bf = GgmlDequant.Bf16ToF32([0x80, 0x3F, 0x40, 0xC0, 0x80, 0x7F, 0x01, 0x00, 0xC9, 0x40]);
        Assert.Equal([1f, -3f, float.PositiveInfinity, BitConverter.Int32BitsToSingle(0x00010000), 6.28125f], bf);
        Assert.Throws<EvalException>(() => GgmlDequant.Bf16ToF32([1, 2, 3]));
    }

    [Theory]
    [InlineData(BlockFormat.Q4_K, 143, 256)] // a byte short
    [InlineData(BlockFormat.Q4_K, 144, 255)] // not whole blocks
    [InlineData(BlockFormat.Q4_0, 36, 32)]   // too many bytes
    [InlineData(BlockFormat.MXFP4, 17, 16)]
    [InlineData(BlockFormat.Q8_1, 36, 32)]   // ggml has no to_float for Q8_1
    public void BadLengthsThrow(BlockFormat f, int bytes, long count) =>
        Assert.Throws<EvalException>(() => GgmlDequant.Dequantize(f, new byte[bytes], count));

    [Fact]
    public void EveryListedFormatDecodesZeros()
    {
        foreach (var t in BlockQuantType.All.Where(t => GgmlDequant.Supports(t.Format)))
        {
            Assert.All(GgmlDequant.Dequantize(t.Format, new byte[t.BytesPerBlock * 2], t.BlockSize * 2), v => Assert.Equal(0f, Math.Abs(v)));
        }
    }
}
