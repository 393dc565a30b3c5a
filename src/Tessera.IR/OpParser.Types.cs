using System.Globalization;

namespace Tessera.IR;

public sealed partial class OpParser
{
    public Type ParseType(string context)
    {
        var t = _lx.Peek();
        int at = t.Offset;
        switch (t.Kind)
        {
            case TokenKind.BareId:
                _lx.Next();
                return t.Text switch
                {
                    "tensor" => ParseShaped(isTensor: true, at),
                    "memref" => ParseShaped(isTensor: false, at),
                    _ => BuiltinScalar(t.Text) ?? throw Error(DiagnosticCodes.ParseBadType, $"unknown type '{t.Text}'", at),
                };
            case TokenKind.DialectType:
                _lx.Next();
                return ParseDialectType(t.Text, at);
            case TokenKind.Punct when t.Text == "(":
                return ParseFunctionType(context);
            default:
                throw Expected("type", context);
        }
    }

    public static Type? BuiltinScalar(string s)
    {
        switch (s)
        {
            case "f16": return FloatType.F16;
            case "bf16": return FloatType.BF16;
            case "f32": return FloatType.F32;
            case "f64": return FloatType.F64;
            case "index": return IndexType.Instance;
            case "none": return NoneType.Instance;
        }

        bool unsigned = s.StartsWith("ui", StringComparison.Ordinal);
        var digits = unsigned ? s[2..] : s.StartsWith('i') ? s[1..] : null;
        if (digits is { Length: > 0 and < 4 } && digits.All(char.IsAsciiDigit))
        {
            return IntegerType.Get(int.Parse(digits, CultureInfo.InvariantCulture), unsigned ? Signedness.Unsigned : Signedness.Signless);
        }

        return null;
    }

    public FunctionType ParseFunctionType(string context)
    {
        Enter();
        ExpectPunct("(", context);
        var ins = new List<Type>();
        if (!TryPunct(")"))
        {
            do
            {
                ins.Add(ParseType("in function type inputs"));
            }
            while (TryPunct(","));
            ExpectPunct(")", "to close function type inputs");
        }

        ExpectPunct("->", "in function type");
        var outs = ParseResultTypeList("in function type results");
        Leave();
        return new FunctionType(ins, outs);
    }

    /// <summary>A single type, or a parenthesized (possibly empty) list.</summary>
    public List<Type> ParseResultTypeList(string context)
    {
        var outs = new List<Type>();
        if (_lx.Peek().Is("(") && !LooksLikeFunctionType())
        {
            _lx.Next();
            if (!TryPunct(")"))
            {
                do
                {
                    outs.Add(ParseType(context));
                }
                while (TryPunct(","));
                ExpectPunct(")", "to close result types");
            }
        }
        else
        {
            outs.Add(ParseType(context));
        }

        return outs;
    }

    /// <summary>True if a '(' starts a function type (its closing paren is followed by '->') rather than a type list.</summary>
    private bool LooksLikeFunctionType()
    {
        int save = _lx.Pos;
        try
        {
            int depth = 0;
            while (true)
            {
                var t = _lx.Next();
                if (t.Kind == TokenKind.Eof)
                {
                    return false;
                }

                if (t.Is("(") || t.Is("<") || t.Is("{") || t.Is("["))
                {
                    depth++;
                }
                else if (t.Is(")") || t.Is(">") || t.Is("}") || t.Is("]"))
                {
                    if (--depth == 0)
                    {
                        return _lx.Peek().Is("->");
                    }
                }
            }
        }
        finally
        {
            _lx.Pos = save;
        }
    }

    private ShapedType ParseShaped(bool isTensor, int at)
    {
        string kind = isTensor ? "tensor" : "memref";
        ExpectPunct("<", $"after '{kind}'");
        Enter();
        List<Dim>? dims = [];
        while (true)
        {
            _lx.SkipTrivia();
            char c = _lx.RawChar();
            int dimAt = _lx.Pos;
            if (char.IsAsciiDigit(c))
            {
                while (char.IsAsciiDigit(_lx.RawChar()))
                {
                    _lx.Pos++;
                }

                if (!long.TryParse(_lx.Text.AsSpan(dimAt, _lx.Pos - dimAt), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
                {
                    throw Error(DiagnosticCodes.ParseBadType, "dimension does not fit in 64 bits", dimAt);
                }

                dims!.Add(new Dim(size));
            }
            else if (c == '?')
            {
                _lx.Pos++;
                dims!.Add(Dim.Dynamic());
            }
            else if (c == '{')
            {
                _lx.Pos++;
                int start = _lx.Pos;
                while (char.IsAsciiLetterOrDigit(_lx.RawChar()) || _lx.RawChar() == '_')
                {
                    _lx.Pos++;
                }

                var sym = _lx.Text[start.._lx.Pos];
                if (sym.Length == 0 || _lx.RawChar() != '}')
                {
                    throw Error(DiagnosticCodes.ParseBadType, "expected a symbolic dimension like {seq}", dimAt);
                }

                _lx.Pos++;
                dims!.Add(Dim.Dynamic(sym));
            }
            else if (c == '*' && isTensor && dims!.Count == 0)
            {
                _lx.Pos++;
                dims = null;
            }
            else
            {
                break;
            }

            if (_lx.RawChar() != 'x')
            {
                throw Error(DiagnosticCodes.ParseBadType, $"expected 'x' after dimension in {kind} type", _lx.Pos);
            }

            _lx.Pos++;
            if (dims is null)
            {
                break;
            }
        }

        var elem = ParseType($"as {kind} element type");
        if (elem is ShapedType or FunctionType or NoneType)
        {
            throw Error(DiagnosticCodes.ParseBadType, $"invalid {kind} element type '{elem}'", at);
        }

        Type result;
        if (isTensor)
        {
            result = new TensorType(dims, elem);
        }
        else
        {
            var space = MemorySpace.Dram;
            if (TryPunct(","))
            {
                var t = _lx.Next();
                space = MemRefType.ParseSpace(t.Text) ?? throw Error(DiagnosticCodes.ParseBadType, $"unknown memory space {t.Describe()}; expected dram, sram or acc", t.Offset);
            }

            result = new MemRefType(dims!, elem, space);
        }

        ExpectPunct(">", $"to close {kind} type");
        Leave();
        return (ShapedType)result;
    }

    private Type ParseDialectType(string text, int at)
    {
        if (text.StartsWith("!ggml.", StringComparison.Ordinal))
        {
            return BlockQuantType.ByName(text[6..])
                ?? throw Error(DiagnosticCodes.ParseBadType, $"unknown ggml block type '{text}'; known: {string.Join(", ", BlockQuantType.All.Select(b => b.Name))}", at);
        }

        if (text == "!quant.uniform")
        {
            return ParseQuantUniform(at);
        }

        throw Error(DiagnosticCodes.ParseBadType, $"unknown dialect type '{text}'", at);
    }

    private QuantizedType ParseQuantUniform(int at)
    {
        const string ctx = "in !quant.uniform";
        ExpectPunct("<", ctx);
        if (ParseType(ctx) is not IntegerType storage)
        {
            throw Error(DiagnosticCodes.ParseBadType, "quantized storage type must be an integer type", at);
        }

        ExpectPunct(":", ctx);
        if (ParseType(ctx) is not FloatType expressed)
        {
            throw Error(DiagnosticCodes.ParseBadType, "quantized expressed type must be a float type", at);
        }

        int? axis = null, group = null;
        if (TryPunct(":"))
        {
            axis = checked((int)ParseInteger("as quantization axis"));
            if (TryPunct("/"))
            {
                group = checked((int)ParseInteger("as quantization group size"));
                if (group <= 0)
                {
                    throw Error(DiagnosticCodes.ParseBadType, "quantization group size must be positive", at);
                }
            }
        }

        var scales = new List<double>();
        var zps = new List<long>();
        if (TryPunct(","))
        {
            if (axis is null)
            {
                ParseScaleZp(scales, zps);
            }
            else
            {
                ExpectPunct("{", "before per-axis scales");
                do
                {
                    ParseScaleZp(scales, zps);
                }
                while (TryPunct(","));
                ExpectPunct("}", "after per-axis scales");
            }
        }
        else if (group is null)
        {
            throw Expected("',' and scale:zero_point", ctx);
        }

        ExpectPunct(">", "to close !quant.uniform");
        var q = new QuantizedType(storage, expressed, axis, group, scales, zps);
        var (min, max) = q.StorageRange;
        if (zps.Any(z => z < min || z > max))
        {
            throw Error(DiagnosticCodes.ParseBadType, $"zero point outside the range [{min}, {max}] of {storage}", at);
        }

        return q;
    }

    private void ParseScaleZp(List<double> scales, List<long> zps)
    {
        var t = _lx.Next();
        if (t.Kind is not (TokenKind.Float or TokenKind.Integer))
        {
            throw Error(DiagnosticCodes.ParseExpected, $"expected scale, found {t.Describe()}", t.Offset);
        }

        double scale = double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!(scale > 0) || !double.IsFinite(scale))
        {
            throw Error(DiagnosticCodes.ParseBadType, "quantization scale must be positive and finite", t.Offset);
        }

        ExpectPunct(":", "between scale and zero point");
        scales.Add(scale);
        zps.Add(ParseInteger("as zero point"));
    }
}
