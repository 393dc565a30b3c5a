using System.Buffers.Binary;
using System.Text;

namespace Tessera.Gguf;

/// <summary>
/// Reads GGUF header fields from a mapped file. Every length and count is checked against the bytes left before
/// anything is allocated; running past the end is <see cref="GgufCodes.Truncated"/>.
/// </summary>
internal sealed class GgufCursor(MappedFile file, string path)
{
    /// <summary>Arrays inside arrays deeper than this are refused.</summary>
    public const int MaxArrayDepth = 4;

    /// <summary>Keys, names and string values longer than this are refused (the file would also have to hold them).</summary>
    public const long MaxStringBytes = 1 << 30;

    private static readonly UTF8Encoding Utf8 = new(false, true);

    public long Position { get; set; }
    public long Remaining => file.Length - Position;

    public DiagnosticException Error(string code, string message) => GgufCodes.Error(code, path, message);

    private ReadOnlySpan<byte> Take(int n, string what)
    {
        if (Remaining < n)
        {
            throw Error(GgufCodes.Truncated, $"file ends at byte {file.Length} while reading {what} at byte {Position}");
        }

        var s = file.Slice(Position, n);
        Position += n;
        return s;
    }

    public byte U8(string what) => Take(1, what)[0];
    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    /// <summary>A count that needs at least <paramref name="minBytesEach"/> bytes per item in the rest of the file.</summary>
    public long Count(string what, long minBytesEach)
    {
        ulong n = U64(what);
        if (n > (ulong)(Remaining / minBytesEach))
        {
            throw Error(GgufCodes.Truncated, $"{what} is {n}, but only {Remaining} bytes are left (at least {minBytesEach} bytes each)");
        }

        return (long)n;
    }

    public string String(string what)
    {
        ulong n = U64(what + " length");
        if (n > (ulong)Remaining || n > MaxStringBytes)
        {
            throw Error(GgufCodes.Truncated, $"{what} has length {n}, but only {Remaining} bytes are left");
        }

        var bytes = Take((int)n, what);
        try
        {
            return Utf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>The fewest bytes a value of type <paramref name="t"/> takes in the file.</summary>
    public static long MinSize(GgufValueType t) => t switch
    {
        GgufValueType.U8 or GgufValueType.I8 or GgufValueType.Bool => 1,
        GgufValueType.U16 or GgufValueType.I16 => 2,
        GgufValueType.U32 or GgufValueType.I32 or GgufValueType.F32 => 4,
        GgufValueType.U64 or GgufValueType.I64 or GgufValueType.F64 or GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public GgufValueType ValueType(string what)
    {
        uint t = U32(what);
        if (t > (uint)GgufValueType.F64)
        {
            throw Error(GgufCodes.BadType, $"{what} is {t}, not a GGUF value type (0..12)");
        }

        return (GgufValueType)t;
    }

    public GgufValue Value(GgufValueType t, string key, int depth = 0) => t switch
    {
        GgufValueType.U8 => new(t, U8(key)),
        GgufValueType.I8 => new(t, (sbyte)U8(key)),
        GgufValueType.U16 => new(t, U16(key)),
        GgufValueType.I16 => new(t, (short)U16(key)),
        GgufValueType.U32 => new(t, U32(key)),
        GgufValueType.I32 => new(t, (int)U32(key)),
        GgufValueType.F32 => new(t, BitConverter.Int32BitsToSingle((int)U32(key))),
        GgufValueType.Bool => Bool(key),
        GgufValueType.String => new(t, String(key)),
        GgufValueType.U64 => new(t, U64(key)),
        GgufValueType.I64 => new(t, (long)U64(key)),
        GgufValueType.F64 => new(t, BitConverter.Int64BitsToDouble((long)U64(key))),
        GgufValueType.Array => Array(key, depth),
        _ => throw Error(GgufCodes.BadType, $"{key}: unknown value type {(int)t}"),
    };

    private GgufValue Bool(string key)
    {
        byte b = U8(key);
        if (b > 1)
        {
            throw Error(GgufCodes.BadType, $"{key}: bool value {b} is neither 0 nor 1");
        }

        return new(GgufValueType.Bool, b == 1);
    }

    private GgufValue Array(string key, int depth)
    {
        if (depth >= MaxArrayDepth)
        {
            throw Error(GgufCodes.Overflow, $"{key}: arrays nested more than {MaxArrayDepth} deep");
        }

        var elem = ValueType($"{key}: array element type");
        long n = Count($"{key}: array count", MinSize(elem));
        if (n > int.MaxValue)
        {
            throw Error(GgufCodes.Overflow, $"{key}: array count {n} is more than {int.MaxValue}");
        }

        var items = new List<GgufValue>((int)Math.Min(n, 1 << 20));
        for (long i = 0; i < n; i++)
        {
            items.Add(Value(elem, key, depth + 1));
        }

        return new GgufValue(GgufValueType.Array, null, elem, items);
    }
}
