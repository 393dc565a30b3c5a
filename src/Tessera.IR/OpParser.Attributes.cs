using System.Buffers.Binary;
using System.Globalization;

namespace Tessera.IR;

public sealed partial class OpParser
{
    public Attribute ParseAttribute(string context)
    {
        var t = _lx.Peek();
        switch (t.Kind)
        {
            case TokenKind.Integer:
            case TokenKind.Float:
                _lx.Next();
                return ParseNumberAttr(t);
            case TokenKind.String:
                _lx.Next();
                return new StringAttr(t.Text);
            case TokenKind.SymbolId:
                {
                    var root = ParseSymbolName(context);
                    var nested = new List<string>();
                    while (_lx.PeekChar() == ':' && _lx.RawChar(1) == ':')
                    {
                        _lx.Pos += 2;
                        nested.Add(ParseSymbolName("after '::' in nested symbol reference"));
                    }

                    return new SymbolRefAttr(root, nested);
                }

            case TokenKind.Punct when t.Text == "[":
                {
                    _lx.Next();
                    Enter();
                    var items = new List<Attribute>();
                    if (!TryPunct("]"))
                    {
                        do
                        {
                            items.Add(ParseAttribute("in array attribute"));
                        }
                        while (TryPunct(","));
                        ExpectPunct("]", "to close array attribute");
                    }

                    Leave();
                    return new ArrayAttr(items);
                }

            case TokenKind.Punct when t.Text == "{":
                return new DictionaryAttr(ParseAttrDict());
            case TokenKind.BareId when t.Text is "true" or "false":
                _lx.Next();
                return BoolAttr.Get(t.Text == "true");
            case TokenKind.BareId when t.Text == "unit":
                _lx.Next();
                return UnitAttr.Instance;
            case TokenKind.BareId when t.Text == "dense":
                _lx.Next();
                return ParseDense(t.Offset);
            case TokenKind.BareId when t.Text == "dense_resource":
                {
                    _lx.Next();
                    ExpectPunct("<", "after 'dense_resource'");
                    ExpectKeyword("__elided__", "in dense_resource (only elided constants can be read back)");
                    ExpectPunct(">", "to close dense_resource");
                    ExpectPunct(":", "before the type of an elided constant");
                    var type = ParseType("of elided constant");
                    if (type is not ShapedType { HasStaticShape: true } st)
                    {
                        throw Error(DiagnosticCodes.ParseBadAttribute, "elided constant needs a statically shaped type", t.Offset);
                    }

                    return new ElidedElementsAttr(st);
                }

            case TokenKind.BareId:
            case TokenKind.DialectType:
            case TokenKind.Punct when t.Text == "(":
                return new TypeAttr(ParseType(context));
            default:
                throw Expected("attribute value", context);
        }
    }

    /// <summary><c>{key = value, flag, ...}</c>; keys are identifiers or strings, a key alone is a unit attribute.</summary>
    public List<KeyValuePair<string, Attribute>> ParseAttrDict()
    {
        ExpectPunct("{", "to start attribute dictionary");
        Enter();
        var entries = new List<KeyValuePair<string, Attribute>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!TryPunct("}"))
        {
            do
            {
                var k = _lx.Next();
                if (k.Kind is not (TokenKind.BareId or TokenKind.String))
                {
                    throw Error(DiagnosticCodes.ParseExpected, $"expected attribute name, found {k.Describe()}", k.Offset);
                }

                if (!seen.Add(k.Text))
                {
                    throw Error(DiagnosticCodes.ParseBadAttribute, $"duplicate attribute '{k.Text}'", k.Offset);
                }

                Attribute v = UnitAttr.Instance;
                if (TryPunct("="))
                {
                    v = ParseAttribute($"for attribute '{k.Text}'");
                }

                entries.Add(new(k.Text, v));
            }
            while (TryPunct(","));
            ExpectPunct("}", "to close attribute dictionary");
        }

        Leave();
        return entries;
    }

    private Attribute ParseNumberAttr(Token t)
    {
        Type type = t.Kind == TokenKind.Float ? FloatType.F64 : IntegerType.I64;
        if (_lx.Peek().Is(":") )
        {
            _lx.Next();
            type = ParseType("after ':' in typed number");
        }

        switch (type)
        {
            case FloatType f:
                return new FloatAttr(FloatValue(t, f), f);
            case IntegerType or IndexType:
                if (t.Kind == TokenKind.Float)
                {
                    throw Error(DiagnosticCodes.ParseBadLiteral, $"float literal {t.Text} given an integer type {type}", t.Offset);
                }

                long v = ParseIntText(t);
                CheckIntFits(v, type, t.Offset);
                return new IntegerAttr(v, type);
            default:
                throw Error(DiagnosticCodes.ParseBadLiteral, $"a number cannot have type {type}", t.Offset);
        }
    }

    /// <summary>A float literal, or a hex bit pattern of the type's width (how NaN and infinities are written).</summary>
    private double FloatValue(Token t, FloatType f)
    {
        if (t.Kind == TokenKind.Integer && t.Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            long bits = ParseIntText(t);
            if (f.Width < 64 && (ulong)bits >> f.Width != 0)
            {
                throw Error(DiagnosticCodes.ParseBadLiteral, $"hex literal {t.Text} is wider than {f}", t.Offset);
            }

            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(b, bits);
            return ElementCodec.ReadDouble(f, new ArrayStorage(b[..(f.Width / 8)].ToArray()), 0);
        }

        return double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private void CheckIntFits(long v, Type type, int offset)
    {
        if (type is not IntegerType { Width: < 64 } it)
        {
            return;
        }

        long min = it.IsUnsigned ? 0 : -(1L << (it.Width - 1));
        long max = (1L << it.Width) - 1;
        if (v < min || v > max)
        {
            throw Error(DiagnosticCodes.ParseBadLiteral, $"integer {v} does not fit in {type}", offset);
        }
    }

    private Attribute ParseDense(int at)
    {
        ExpectPunct("<", "after 'dense'");
        byte[]? hex = null;
        var elements = new List<Token>();
        List<long>? shape = null;
        var first = _lx.Peek();
        if (first.Kind == TokenKind.String)
        {
            _lx.Next();
            if (!first.Text.StartsWith("0x", StringComparison.Ordinal))
            {
                throw Error(DiagnosticCodes.ParseBadAttribute, "a dense string must be hex data starting with 0x", first.Offset);
            }

            try
            {
                hex = Convert.FromHexString(first.Text.AsSpan(2));
            }
            catch (FormatException)
            {
                throw Error(DiagnosticCodes.ParseBadAttribute, "dense hex data is not valid hex", first.Offset);
            }
        }
        else if (first.Is("["))
        {
            shape = ParseNestedList(elements);
        }
        else if (!first.Is(">"))
        {
            elements.Add(ParseElementToken());
        }

        ExpectPunct(">", "to close dense");
        ExpectPunct(":", "before the type of a dense constant");
        var typeAt = _lx.Peek().Offset;
        if (ParseType("of dense constant") is not ShapedType { HasStaticShape: true } st)
        {
            throw Error(DiagnosticCodes.ParseBadAttribute, "dense constant needs a statically shaped tensor or memref type", typeAt);
        }

        long count = st.ElementCount!.Value;
        var elem = st.ElementType;
        long? bytes = ElementCodec.ByteSize(elem, count);
        if (bytes is null)
        {
            throw Error(DiagnosticCodes.ParseBadAttribute, $"element type {elem} has no dense layout for {count} elements", typeAt);
        }

        if (hex is not null)
        {
            if (hex.LongLength != bytes)
            {
                throw Error(DiagnosticCodes.ParseBadAttribute, $"dense hex data has {hex.Length} bytes but {st} needs {bytes}", at);
            }

            return new DenseElementsAttr(st, new ArrayStorage(hex));
        }

        if (elem is BlockQuantType)
        {
            throw Error(DiagnosticCodes.ParseBadAttribute, $"{elem} constants must be written as hex data", at);
        }

        if (shape is not null && !shape.SequenceEqual(st.Shape!.Select(d => d.Size)))
        {
            throw Error(DiagnosticCodes.ParseBadAttribute, $"dense literal has shape [{string.Join(", ", shape)}] but the type is {st}", at);
        }

        bool splat = shape is null && count != 1;
        if (shape is null && elements.Count == 0)
        {
            throw Error(DiagnosticCodes.ParseBadAttribute, "empty dense literal", at);
        }

        return ElementsToAttr(st, elements, splat);
    }

    private Attribute ElementsToAttr(ShapedType st, List<Token> elements, bool splat)
    {
        var elem = st.ElementType;
        if (elem is FloatType f)
        {
            var vals = elements.Select(t => t.Kind is TokenKind.Float or TokenKind.Integer
                ? FloatValue(t, f)
                : throw Error(DiagnosticCodes.ParseBadLiteral, $"expected a number for {f}, found {t.Describe()}", t.Offset)).ToArray();
            return new DenseElementsAttr(st, new ArrayStorage(ElementCodec.Encode(f, vals)), splat);
        }

        var storage = elem is QuantizedType q ? q.Storage : elem;
        var ints = new long[elements.Count];
        for (int i = 0; i < elements.Count; i++)
        {
            var t = elements[i];
            if (t.Kind == TokenKind.BareId && storage is IntegerType { Width: 1 })
            {
                ints[i] = t.Text == "true" ? 1 : 0;
                continue;
            }

            if (t.Kind != TokenKind.Integer)
            {
                throw Error(DiagnosticCodes.ParseBadLiteral, $"expected an integer for {elem}, found {t.Describe()}", t.Offset);
            }

            ints[i] = ParseIntText(t);
            CheckIntFits(ints[i], storage, t.Offset);
        }

        return new DenseElementsAttr(st, new ArrayStorage(ElementCodec.EncodeInts(elem, ints)), splat);
    }

    private Token ParseElementToken()
    {
        var t = _lx.Next();
        if (t.Kind is TokenKind.Integer or TokenKind.Float || (t.Kind == TokenKind.BareId && t.Text is "true" or "false"))
        {
            return t;
        }

        throw Error(DiagnosticCodes.ParseBadLiteral, $"expected a dense element, found {t.Describe()}", t.Offset);
    }

    /// <summary>Flattens a nested list into <paramref name="into"/> and returns its shape; rows must be the same length.</summary>
    private List<long> ParseNestedList(List<Token> into)
    {
        Enter();
        int at = _lx.Peek().Offset;
        ExpectPunct("[", "in dense literal");
        List<long>? inner = null;
        long n = 0;
        if (!TryPunct("]"))
        {
            do
            {
                List<long> sub = _lx.Peek().Is("[") ? ParseNestedList(into) : ScalarShape(into);
                if (inner is not null && !inner.SequenceEqual(sub))
                {
                    throw Error(DiagnosticCodes.ParseBadAttribute, "dense literal rows have different shapes", at);
                }

                inner = sub;
                n++;
            }
            while (TryPunct(","));
            ExpectPunct("]", "to close dense literal list");
        }

        Leave();
        var shape = new List<long> { n };
        shape.AddRange(inner ?? []);
        return shape;
    }

    private List<long> ScalarShape(List<Token> into)
    {
        into.Add(ParseElementToken());
        return [];
    }
}
