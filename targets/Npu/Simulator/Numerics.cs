namespace Tessera.Npu.Simulator;

/// <summary>The exact numeric definitions of docs/npu/isa.md § Numerics. Every float step is one IEEE-754 binary32 operation
/// rounded to nearest-even (C# float arithmetic on x64/arm64 is exactly that: no fused multiply-add, no extended precision).</summary>
public static class Numerics
{
    /// <summary>Round-half-to-even arithmetic right shift of a 64-bit value (shift 0..63).</summary>
    public static long ShiftRoundHalfEven(long v, int shift)
    {
        if (shift == 0)
        {
            return v;
        }

        long q = v >> shift;                       // floor
        long rem = v - (q << shift);               // 0 <= rem < 2^shift
        long half = 1L << (shift - 1);
        return rem > half || (rem == half && (q & 1) != 0) ? q + 1 : q;
    }

    /// <summary>y = clamp(zpOut + rhe((x − zpIn) × mult, shift), −128, 127).</summary>
    public static sbyte Requantize(int x, int mult, int shift, int zpIn, int zpOut)
    {
        long v = ShiftRoundHalfEven(((long)x - zpIn) * mult, shift) + zpOut;
        return (sbyte)Math.Clamp(v, sbyte.MinValue, sbyte.MaxValue);
    }

    public static float Bf16ToF32(ushort b) => BitConverter.Int32BitsToSingle(b << 16);

    public static ushort F32ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f))
        {
            return (ushort)((u >> 16) | 0x0040);
        }

        return (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    }

    public static float F16ToF32(ushort h)
    {
        int sign = (h >> 15) & 1, exp = (h >> 10) & 31, man = h & 1023;
        float mag = exp == 31 ? (man == 0 ? float.PositiveInfinity : BitConverter.Int32BitsToSingle(0x7FC00000 | (man << 13)))
            : exp == 0 ? man * (1f / 16777216f)        // subnormal: man × 2^-24, exact
            : BitConverter.Int32BitsToSingle(((exp - 15 + 127) << 23) | (man << 13));
        return sign != 0 ? -mag : mag;
    }

    /// <summary>IEEE binary32 → binary16, round to nearest even, overflow to ±inf, NaN → quiet NaN keeping the top payload bits.</summary>
    public static ushort F32ToF16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        uint sign = (u >> 16) & 0x8000;
        int exp = (int)((u >> 23) & 255);
        uint man = u & 0x7FFFFF;
        if (exp == 255)
        {
            return (ushort)(sign | 0x7C00 | (man != 0 ? 0x200 | (man >> 13) : 0));
        }

        int e = exp - 127 + 15;
        if (e >= 31)
        {
            return (ushort)(sign | 0x7C00);
        }

        if (e <= 0)
        {
            if (e < -10)
            {
                return (ushort)sign;                   // below half the smallest subnormal: rounds to zero
            }

            man |= 0x800000;
            int shift = 14 - e;                        // 13 + (1 - e)
            uint q = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
            q += rem > half || (rem == half && (q & 1) != 0) ? 1u : 0u;
            return (ushort)(sign | q);
        }

        uint m = man >> 13, r = man & 0x1FFF;
        uint h = ((uint)e << 10) | m;
        h += r > 0x1000 || (r == 0x1000 && (m & 1) != 0) ? 1u : 0u;  // a carry into the exponent is still correct (may become inf)
        return (ushort)(sign | h);
    }

    /// <summary>fp32 → integer: NaN → 0, otherwise round half to even and saturate to [min, max].</summary>
    public static long FloatToInt(float f, long min, long max) =>
        float.IsNaN(f) ? 0 : Math.Clamp((long)Math.Clamp(Math.Round((double)f, MidpointRounding.ToEven), -9.2e18, 9.2e18), min, max);

    // exp: n = rne(x × log2e); r = (x − n×LN2_HI) − n×LN2_LO; p = Horner(C7..C0, r); result = p × 2^n rounded once.
    private const float Log2E = 1.44269502f;       // 0x3FB8AA3B
    private const float Ln2Hi = 0.693145752f;      // 0x3F317200
    private const float Ln2Lo = 1.42860677e-06f;   // 0x35BFBE8E
    private static readonly float[] ExpC = [1f, 1f, 0.5f, 0.166666672f, 0.0416666679f, 0.00833333377f, 0.00138888892f, 0.000198412701f];

    /// <summary>The canonical quiet NaN the vector unit produces: 0x7FC00000.</summary>
    public static readonly float QNaN = BitConverter.Int32BitsToSingle(0x7FC00000);

    public static float Exp(float x)
    {
        if (float.IsNaN(x))
        {
            return QNaN;
        }

        if (x > 88.72284f)
        {
            return float.PositiveInfinity;
        }

        if (x < -103.972084f)
        {
            return 0f;
        }

        float n = MathF.Round(x * Log2E, MidpointRounding.ToEven);
        float r = (x - n * Ln2Hi) - n * Ln2Lo;
        float p = ExpC[7];
        for (int i = 6; i >= 0; i--)
        {
            p = p * r + ExpC[i];
        }

        return (float)Math.ScaleB((double)p, (int)n);
    }

    public static float Recip(float x) => 1f / x;
    public static float Rsqrt(float x) => 1f / MathF.Sqrt(x);
    public static float Silu(float x) => x / (1f + Exp(-x));

    private const float GeluC0 = 0.797884583f;     // sqrt(2/pi)
    private const float GeluC1 = 0.044715f;

    public static float Gelu(float x)
    {
        float u = GeluC0 * (x + GeluC1 * x * x * x);
        float t = 1f - 2f / (Exp(2f * u) + 1f);
        return 0.5f * x * (1f + t);
    }

    public static float Max(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? QNaN : a > b ? a : b;
    public static float Min(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? QNaN : a < b ? a : b;
}
