using System.Globalization;

namespace Tessera.IR;

/// <summary>
/// Recursive-descent parser for the text form. Ops in a block are read in a loop; only nesting
/// (regions, attributes, types) recurses, and that is capped at <see cref="Parser.MaxNesting"/>.
/// Custom op syntaxes (<see cref="IOpSyntax"/>) use the public methods.
/// </summary>
public sealed partial class OpParser
{
    private readonly Lexer _lx;
    private int _depth;

    internal OpParser(Context ctx, string text, string file)
    {
        Context = ctx;
        _lx = new Lexer(text, file);
    }

    public Context Context { get; }

    // ---- errors and tokens ----

    public DiagnosticException Error(string code, string message, int? offset = null)
    {
        _lx.SkipTrivia();
        var loc = _lx.LocationAt(offset ?? _lx.Pos);
        return new DiagnosticException(new Diagnostic(Severity.Error, code, message, loc));
    }

    public DiagnosticException Expected(string what, string context) =>
        Error(DiagnosticCodes.ParseExpected, $"expected {what} {context}, found {_lx.Peek().Describe()}");

    public Location CurrentLocation()
    {
        _lx.SkipTrivia();
        return _lx.LocationAt(_lx.Pos);
    }

    public Token Peek() => _lx.Peek();
    public Token Next() => _lx.Next();

    public bool TryPunct(string p)
    {
        var t = _lx.Peek();
        if (t.Kind == TokenKind.Punct && t.Text == p)
        {
            _lx.Next();
            return true;
        }

        return false;
    }

    public void ExpectPunct(string p, string context)
    {
        if (!TryPunct(p))
        {
            throw Expected($"'{p}'", context);
        }
    }

    public bool TryKeyword(string kw)
    {
        var t = _lx.Peek();
        if (t.Kind == TokenKind.BareId && t.Text == kw)
        {
            _lx.Next();
            return true;
        }

        return false;
    }

    public void ExpectKeyword(string kw, string context)
    {
        if (!TryKeyword(kw))
        {
            throw Expected($"'{kw}'", context);
        }
    }

    private void Enter()
    {
        if (++_depth > Parser.MaxNesting)
        {
            throw Error(DiagnosticCodes.ParseTooDeep, $"nesting deeper than {Parser.MaxNesting} levels");
        }
    }

    private void Leave() => _depth--;

    internal Type ParseWholeType()
    {
        var t = ParseType("in type");
        if (_lx.Peek().Kind != TokenKind.Eof)
        {
            throw Expected("end of input", "after type");
        }

        return t;
    }

    internal Attribute ParseWholeAttribute()
    {
        var a = ParseAttribute("in attribute");
        if (_lx.Peek().Kind != TokenKind.Eof)
        {
            throw Expected("end of input", "after attribute");
        }

        return a;
    }

    public string ParseSymbolName(string context)
    {
        var t = _lx.Peek();
        if (t.Kind != TokenKind.SymbolId)
        {
            throw Expected("symbol name like @name", context);
        }

        _lx.Next();
        return t.Text[1..];
    }

    public string ParseString(string context)
    {
        var t = _lx.Peek();
        if (t.Kind != TokenKind.String)
        {
            throw Expected("string", context);
        }

        _lx.Next();
        return t.Text;
    }

    public long ParseInteger(string context)
    {
        var t = _lx.Peek();
        if (t.Kind != TokenKind.Integer)
        {
            throw Expected("integer", context);
        }

        _lx.Next();
        return ParseIntText(t);
    }

    private long ParseIntText(Token t)
    {
        var s = t.Text;
        bool neg = s.StartsWith('-');
        var body = neg ? s[1..] : s;
        ulong v;
        bool ok = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(body[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v)
            : ulong.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok || (neg && v > 1UL << 63))
        {
            throw Error(DiagnosticCodes.ParseBadLiteral, $"integer literal {s} does not fit in 64 bits", t.Offset);
        }

        return neg ? (long)(0 - v) : (long)v;
    }
}
