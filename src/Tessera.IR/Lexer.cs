namespace Tessera.IR;

public enum TokenKind
{
    Eof,
    BareId,      // arith.addf, f32, attributes
    ValueId,     // %x, %0, %x#1
    BlockId,     // ^bb0
    SymbolId,    // @name, @"quoted"
    DialectType, // !quant.uniform, !ggml.q4_k
    Integer,
    Float,
    String,
    Punct,       // ( ) { } [ ] < > , : = * ? ->
}

public readonly record struct Token(TokenKind Kind, string Text, int Offset)
{
    public bool Is(string punctOrKeyword) => (Kind == TokenKind.Punct || Kind == TokenKind.BareId) && Text == punctOrKeyword;

    public string Describe() => Kind switch
    {
        TokenKind.Eof => "end of input",
        TokenKind.String => "string " + Text,
        _ => $"'{Text}'",
    };
}

/// <summary>An on-demand lexer over the whole text; the parser may also read characters directly (shapes such as 4x4xf32).</summary>
public sealed class Lexer
{
    private readonly string _text;
    private readonly int[] _lineStarts;

    public Lexer(string text, string file)
    {
        _text = text;
        File = file;
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        _lineStarts = starts.ToArray();
    }

    public string File { get; }
    public int Pos { get; set; }
    public string Text => _text;

    public FileLineColLoc LocationAt(int offset)
    {
        int line = Array.BinarySearch(_lineStarts, offset);
        if (line < 0)
        {
            line = ~line - 1;
        }

        return new FileLineColLoc(File, line + 1, offset - _lineStarts[line] + 1);
    }

    public void SkipTrivia()
    {
        while (Pos < _text.Length)
        {
            char c = _text[Pos];
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                Pos++;
            }
            else if (c == '/' && Pos + 1 < _text.Length && _text[Pos + 1] == '/')
            {
                while (Pos < _text.Length && _text[Pos] != '\n')
                {
                    Pos++;
                }
            }
            else
            {
                break;
            }
        }
    }

    public char PeekChar()
    {
        SkipTrivia();
        return Pos < _text.Length ? _text[Pos] : '\0';
    }

    public char RawChar(int ahead = 0) => Pos + ahead < _text.Length ? _text[Pos + ahead] : '\0';

    // The parser peeks at most tokens before taking them; one cached token saves lexing (and allocating) them twice.
    private int _cachedAt = -1;
    private int _cachedEnd;
    private Token _cached;

    public Token Peek()
    {
        int save = Pos;
        var t = Next();
        Pos = save;
        return t;
    }

    public Token Next()
    {
        if (Pos == _cachedAt)
        {
            Pos = _cachedEnd;
            return _cached;
        }

        int at = Pos;
        var t = Lex();
        (_cachedAt, _cachedEnd, _cached) = (at, Pos, t);
        return t;
    }

    private Token Lex()
    {
        SkipTrivia();
        int start = Pos;
        if (Pos >= _text.Length)
        {
            return new Token(TokenKind.Eof, "", start);
        }

        char c = _text[Pos];
        switch (c)
        {
            case '%':
                Pos++;
                ReadIdChars(allowDigitsFirst: true);
                if (RawChar() == '#' && char.IsAsciiDigit(RawChar(1)))
                {
                    Pos++;
                    while (char.IsAsciiDigit(RawChar()))
                    {
                        Pos++;
                    }
                }

                return Make(TokenKind.ValueId, start);
            case '^':
                Pos++;
                ReadIdChars(allowDigitsFirst: true);
                return Make(TokenKind.BlockId, start);
            case '@':
                Pos++;
                if (RawChar() == '"')
                {
                    var s = ReadString();
                    return new Token(TokenKind.SymbolId, "@" + s, start);
                }

                ReadIdChars(allowDigitsFirst: false);
                return Make(TokenKind.SymbolId, start);
            case '!':
                Pos++;
                ReadIdChars(allowDigitsFirst: false);
                return Make(TokenKind.DialectType, start);
            case '"':
                return new Token(TokenKind.String, ReadString(), start);
            case '-' when RawChar(1) == '>':
                Pos += 2;
                return new Token(TokenKind.Punct, "->", start);
            case '-' when char.IsAsciiDigit(RawChar(1)):
            case >= '0' and <= '9':
                return ReadNumber(start);
            case '(' or ')' or '{' or '}' or '[' or ']' or '<' or '>' or ',' or ':' or '=' or '*' or '?':
                Pos++;
                return new Token(TokenKind.Punct, c.ToString(), start);
            default:
                if (char.IsAsciiLetter(c) || c == '_')
                {
                    ReadIdChars(allowDigitsFirst: false);
                    return Make(TokenKind.BareId, start);
                }

                Pos++;
                return new Token(TokenKind.Punct, c.ToString(), start);
        }
    }

    private Token Make(TokenKind kind, int start) => new(kind, _text[start..Pos], start);

    private void ReadIdChars(bool allowDigitsFirst)
    {
        int begin = Pos;
        while (Pos < _text.Length)
        {
            char c = _text[Pos];
            if (char.IsAsciiLetter(c) || c is '_' or '$' || (char.IsAsciiDigit(c) && (allowDigitsFirst || Pos > begin)) || (c == '.' && Pos > begin))
            {
                Pos++;
            }
            else
            {
                break;
            }
        }
    }

    private Token ReadNumber(int start)
    {
        if (_text[Pos] == '-')
        {
            Pos++;
        }

        if (RawChar() == '0' && RawChar(1) is 'x' or 'X')
        {
            Pos += 2;
            while (char.IsAsciiHexDigit(RawChar()))
            {
                Pos++;
            }

            return Make(TokenKind.Integer, start);
        }

        while (char.IsAsciiDigit(RawChar()))
        {
            Pos++;
        }

        bool isFloat = false;
        if (RawChar() == '.' && char.IsAsciiDigit(RawChar(1)))
        {
            isFloat = true;
            Pos++;
            while (char.IsAsciiDigit(RawChar()))
            {
                Pos++;
            }
        }

        if (RawChar() is 'e' or 'E' && (char.IsAsciiDigit(RawChar(1)) || (RawChar(1) is '+' or '-' && char.IsAsciiDigit(RawChar(2)))))
        {
            isFloat = true;
            Pos += 2;
            while (char.IsAsciiDigit(RawChar()))
            {
                Pos++;
            }
        }

        return Make(isFloat ? TokenKind.Float : TokenKind.Integer, start);
    }

    /// <summary>Reads a quoted string at <see cref="Pos"/>, returning its unescaped value. Throws FormatException if unterminated.</summary>
    public string ReadString()
    {
        var sb = new System.Text.StringBuilder();
        Pos++;
        while (true)
        {
            if (Pos >= _text.Length || _text[Pos] == '\n')
            {
                throw new FormatException("unterminated string");
            }

            char c = _text[Pos++];
            if (c == '"')
            {
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            char e = RawChar();
            Pos++;
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                default:
                    if (char.IsAsciiHexDigit(e) && char.IsAsciiHexDigit(RawChar()))
                    {
                        sb.Append((char)Convert.ToInt32(_text.Substring(Pos - 1, 2), 16));
                        Pos++;
                    }
                    else
                    {
                        throw new FormatException($"unknown escape '\\{e}'");
                    }

                    break;
            }
        }
    }
}
