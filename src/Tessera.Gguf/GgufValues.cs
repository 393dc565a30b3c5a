namespace Tessera.Gguf;

/// <summary>Builds <see cref="GgufValue"/>s of each type.</summary>
public static class GgufValues
{
    public static GgufValue U8(byte v) => new(GgufValueType.U8, v);
    public static GgufValue I8(sbyte v) => new(GgufValueType.I8, v);
    public static GgufValue U16(ushort v) => new(GgufValueType.U16, v);
    public static GgufValue I16(short v) => new(GgufValueType.I16, v);
    public static GgufValue U32(uint v) => new(GgufValueType.U32, v);
    public static GgufValue I32(int v) => new(GgufValueType.I32, v);
    public static GgufValue F32(float v) => new(GgufValueType.F32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue String(string v) => new(GgufValueType.String, v);
    public static GgufValue U64(ulong v) => new(GgufValueType.U64, v);
    public static GgufValue I64(long v) => new(GgufValueType.I64, v);
    public static GgufValue F64(double v) => new(GgufValueType.F64, v);

    public static GgufValue Array(GgufValueType elementType, IEnumerable<GgufValue> items) =>
        new(GgufValueType.Array, null, elementType, items.ToList());

    public static GgufValue Strings(IEnumerable<string> items) => Array(GgufValueType.String, items.Select(String));
    public static GgufValue F32s(IEnumerable<float> items) => Array(GgufValueType.F32, items.Select(F32));
    public static GgufValue I32s(IEnumerable<int> items) => Array(GgufValueType.I32, items.Select(I32));

    /// <summary>Throws ArgumentException unless the boxed value (and every array item, recursively) has the CLR type of its GGUF type.</summary>
    public static void Validate(GgufValue v, string key)
    {
        bool ok = v.Type switch
        {
            GgufValueType.U8 => v.Value is byte,
            GgufValueType.I8 => v.Value is sbyte,
            GgufValueType.U16 => v.Value is ushort,
            GgufValueType.I16 => v.Value is short,
            GgufValueType.U32 => v.Value is uint,
            GgufValueType.I32 => v.Value is int,
            GgufValueType.F32 => v.Value is float,
            GgufValueType.Bool => v.Value is bool,
            GgufValueType.String => v.Value is string,
            GgufValueType.U64 => v.Value is ulong,
            GgufValueType.I64 => v.Value is long,
            GgufValueType.F64 => v.Value is double,
            GgufValueType.Array => v.ElementType is not null && v.Items is not null,
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentException($"{key}: a {v.Type} value holds {v.Value?.GetType().Name ?? "null"}");
        }

        if (v.Type == GgufValueType.Array)
        {
            foreach (var item in v.Items!)
            {
                if (item.Type != v.ElementType)
                {
                    throw new ArgumentException($"{key}: an array of {v.ElementType} holds a {item.Type}");
                }

                Validate(item, key);
            }
        }
    }
}
