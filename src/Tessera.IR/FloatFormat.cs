using System.Globalization;

namespace Tessera.IR;

/// <summary>Shortest round-trip float text, always recognisable as a float (it has a '.' or an exponent).</summary>
public static class FloatFormat
{
    public static string Format(double value) => Fix(value.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>Formats at the precision of <paramref name="type"/>, so an f32 0.1 prints as 0.1 rather than 0.10000000149011612.</summary>
    public static string Format(double value, FloatType type) => type.Kind switch
    {
        FloatKind.F64 => Format(value),
        _ => Fix(((float)value).ToString("R", CultureInfo.InvariantCulture)),
    };

    /// <summary>Rounds a double to what <paramref name="type"/> can hold, as storing it would.</summary>
    public static double RoundTo(double value, FloatType type) => type.Kind switch
    {
        FloatKind.F64 => value,
        FloatKind.F32 => (float)value,
        FloatKind.F16 => (double)(Half)value,
        FloatKind.BF16 => BFloat16.ToFloat(BFloat16.FromFloat((float)value)),
        _ => throw new InvalidOperationException($"unknown float kind {type.Kind}"),
    };

    private static string Fix(string s)
    {
        if (s.Contains('E'))
        {
            var parts = s.Split('E');
            var mantissa = parts[0].Contains('.') ? parts[0] : parts[0] + ".0";
            return mantissa + "e" + parts[1];
        }

        return s.Contains('.') || s.Contains('N') || s.Contains('I') || s.Contains('∞') ? s : s + ".0";
    }
}

/// <summary>bfloat16 conversions with round-to-nearest-even, as hardware and PyTorch do.</summary>
public static class BFloat16
{
    public static ushort FromFloat(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);
}
