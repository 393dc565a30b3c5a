namespace Tessera.Gguf;

/// <summary>ggml tensor types as numbered in ggml.h (the numbers are in the file).</summary>
public enum GgmlType
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
}

/// <summary>The 13 GGUF metadata value types.</summary>
public enum GgufValueType
{
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
}

/// <summary>
/// A metadata value. Scalars are boxed in <see cref="Value"/> (byte, sbyte, ushort, short, uint, int, float, bool,
/// string, ulong, long, double); arrays hold their element type and a list of <see cref="GgufValue"/> (nested arrays allowed).
/// </summary>
public sealed record GgufValue(GgufValueType Type, object? Value, GgufValueType? ElementType = null, IReadOnlyList<GgufValue>? Items = null)
{
    public long AsLong() => Value switch
    {
        byte b => b, sbyte b => b, ushort s => s, short s => s, uint u => u, int i => i, ulong u => (long)u, long l => l,
        bool b => b ? 1 : 0, float f => (long)f, double d => (long)d,
        _ => throw new InvalidOperationException($"GGUF value of type {Type} is not a number"),
    };

    public double AsDouble() => Value switch { float f => f, double d => d, _ => AsLong() };

    public string AsString() => Value as string ?? throw new InvalidOperationException($"GGUF value of type {Type} is not a string");

    public override string ToString() => Type == GgufValueType.Array ? $"[{ElementType} x {Items!.Count}]" : Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
}

/// <summary>
/// One tensor info. <see cref="Dims"/> are in ggml order (ne[0] is the innermost, contiguous dimension);
/// the IR shape is the reverse. <see cref="Offset"/> is absolute in the file (data section start + relative offset).
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Dims, GgmlType Type, long Offset, long ByteSize)
{
    public long ElementCount => Dims.Aggregate(1L, (a, d) => checked(a * d));

    /// <summary>The IR shape: dims reversed, outermost first.</summary>
    public long[] Shape => Dims.Reverse().ToArray();
}

/// <summary>Diagnostic codes of the GGUF frontend (07xx).</summary>
public static class GgufCodes
{
    public const string FileUnreadable = "TSR0701";
    public const string BadMagic = "TSR0702";
    public const string BadVersion = "TSR0703";
    public const string Truncated = "TSR0704";          // a count, length or string larger than the bytes left
    public const string TooManyDims = "TSR0705";        // n_dims > 4
    public const string Overflow = "TSR0706";           // element count or byte size overflows
    public const string OutOfBounds = "TSR0707";        // tensor data outside the data section
    public const string BadAlignment = "TSR0708";       // alignment not a power of two or too large
    public const string Duplicate = "TSR0709";          // duplicate key or tensor name
    public const string BadType = "TSR0710";            // unknown value type or tensor type
    public const string UnknownArchitecture = "TSR0711";
    public const string MissingKey = "TSR0712";
    public const string MissingTensor = "TSR0713";
    public const string BadShape = "TSR0714";           // a tensor's shape does not fit the architecture or its block size

    public static DiagnosticException Error(string code, string file, string message) =>
        new(new Diagnostic(Severity.Error, code, $"{file}: {message}", new NameLoc(file)));
}
