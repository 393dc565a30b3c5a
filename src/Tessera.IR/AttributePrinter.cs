using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Tessera.IR;

/// <summary>Attribute and type text. The parser reads back exactly what this writes.</summary>
public static class AttributePrinter
{
    public static string Print(Attribute a, PrintOptions o)
    {
        var sb = new StringBuilder();
        Append(sb, a, o, 0);
        return sb.ToString();
    }

    public static void Append(StringBuilder sb, Attribute a, PrintOptions o, int depth)
    {
        if (depth > Parser.MaxNesting)
        {
            sb.Append("<<nesting limit exceeded>>");
            return;
        }

        switch (a)
        {
            case IntegerAttr i:
                sb.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                if (i.Type != IntegerType.I64)
                {
                    sb.Append(" : ").Append(i.Type.Text);
                }

                break;
            case FloatAttr f:
                sb.Append(FloatLiteral(f.Value, f.FloatType));
                if (f.FloatType != FloatType.F64 || !double.IsFinite(f.Value))
                {
                    sb.Append(" : ").Append(f.FloatType.Text);
                }

                break;
            case BoolAttr b:
                sb.Append(b.Value ? "true" : "false");
                break;
            case UnitAttr:
                sb.Append("unit");
                break;
            case StringAttr s:
                sb.Append(Escape.Quote(s.Value));
                break;
            case ArrayAttr arr:
                sb.Append('[');
                for (int i = 0; i < arr.Elements.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }

                    Append(sb, arr.Elements[i], o, depth + 1);
                }

                sb.Append(']');
                break;
            case DictionaryAttr d:
                AppendDict(sb, d.Entries, o, depth + 1);
                break;
            case TypeAttr t:
                sb.Append(t.Value.Text);
                break;
            case SymbolRefAttr r:
                sb.Append(SymbolName(r.Root));
                foreach (var n in r.Nested)
                {
                    sb.Append("::").Append(SymbolName(n));
                }

                break;
            case DenseElementsAttr dense:
                AppendDense(sb, dense, o);
                break;
            case ElidedElementsAttr e:
                sb.Append("dense_resource<__elided__> : ").Append(e.ShapedType.Text);
                break;
            default:
                throw new InvalidOperationException($"no printer for attribute {a.GetType().Name}");
        }
    }

    public static void AppendDict(StringBuilder sb, IEnumerable<KeyValuePair<string, Attribute>> entries, PrintOptions o, int depth)
    {
        sb.Append('{');
        bool first = true;
        foreach (var (k, v) in entries)
        {
            sb.Append(first ? "" : ", ").Append(Key(k));
            first = false;
            if (v is not UnitAttr)
            {
                sb.Append(" = ");
                Append(sb, v, o, depth);
            }
        }

        sb.Append('}');
    }

    public static string Key(string k) => IsIdentifier(k) ? k : Escape.Quote(k);

    public static string SymbolName(string name) => "@" + (IsIdentifier(name) ? name : Escape.Quote(name));

    public static bool IsIdentifier(string s)
    {
        if (s.Length == 0 || !(char.IsAsciiLetter(s[0]) || s[0] == '_'))
        {
            return false;
        }

        foreach (char c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A finite float prints in shortest round-trip form; NaN and infinities as their bit pattern in hex.</summary>
    public static string FloatLiteral(double v, FloatType t)
    {
        if (double.IsFinite(v))
        {
            return FloatFormat.Format(v, t);
        }

        Span<byte> b = stackalloc byte[8];
        ElementCodec.WriteFloat(t, b, v);
        ulong bits = t.Width switch
        {
            64 => BinaryPrimitives.ReadUInt64LittleEndian(b),
            32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
            _ => BinaryPrimitives.ReadUInt16LittleEndian(b),
        };
        return "0x" + bits.ToString("X" + (t.Width / 4), CultureInfo.InvariantCulture);
    }

    private static void AppendDense(StringBuilder sb, DenseElementsAttr d, PrintOptions o)
    {
        long n = d.ElementCount;
        var elem = d.ShapedType.ElementType;
        if (!d.IsSplat && o.ElideElementsLargerThan is long limit && n > limit)
        {
            sb.Append("dense_resource<__elided__> : ").Append(d.ShapedType.Text);
            return;
        }

        sb.Append("dense<");
        if (elem is BlockQuantType || (!d.IsSplat && o.LargeConstantsAsHex && n > o.HexThreshold))
        {
            sb.Append("\"0x");
            for (long off = 0; off < d.Storage.Length; off += 1 << 16)
            {
                sb.Append(Convert.ToHexString(d.Storage.Slice(off, (int)Math.Min(1 << 16, d.Storage.Length - off))));
            }

            sb.Append('"');
        }
        else if (d.IsSplat)
        {
            AppendElement(sb, d, 0);
        }
        else
        {
            AppendNested(sb, d);
        }

        sb.Append("> : ").Append(d.ShapedType.Text);
    }

    private static void AppendNested(StringBuilder sb, DenseElementsAttr d)
    {
        var shape = d.ShapedType.Shape!;
        if (shape.Count == 0)
        {
            AppendElement(sb, d, 0);
            return;
        }

        // Open brackets when an index starts a new row at some rank, close them when it ends one.
        long total = d.ElementCount;
        var strides = new long[shape.Count];
        long s = 1;
        for (int i = shape.Count - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i].Size;
        }

        if (total == 0)
        {
            sb.Append('[', shape.Count).Append(']', shape.Count);
            return;
        }

        for (long i = 0; i < total; i++)
        {
            int opens = 0;
            for (int r = 0; r < shape.Count; r++)
            {
                if (i % (strides[r] * shape[r].Size) == 0)
                {
                    opens++;
                }
            }

            if (i > 0)
            {
                sb.Append(", ");
            }

            sb.Append('[', opens);
            AppendElement(sb, d, i);
            int closes = 0;
            for (int r = 0; r < shape.Count; r++)
            {
                if ((i + 1) % (strides[r] * shape[r].Size) == 0)
                {
                    closes++;
                }
            }

            sb.Append(']', closes);
        }
    }

    private static void AppendElement(StringBuilder sb, DenseElementsAttr d, long i)
    {
        var elem = d.ShapedType.ElementType;
        if (elem is FloatType f)
        {
            sb.Append(FloatLiteral(d.GetDouble(i), f));
        }
        else if (elem is IntegerType { Width: 1 })
        {
            sb.Append(d.GetLong(i) != 0 ? "true" : "false");
        }
        else
        {
            sb.Append(d.GetLong(i).ToString(CultureInfo.InvariantCulture));
        }
    }
}
