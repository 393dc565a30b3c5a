using System.Globalization;

namespace Tessera.IR;

/// <summary>Where an operation came from: a file position, an ONNX node or GGUF tensor name, or an inlined call site.</summary>
public abstract class Location : IEquatable<Location>
{
    public abstract string Text { get; }

    /// <summary>The innermost file position, for diagnostics in <c>file:line:col</c> form.</summary>
    public virtual FileLineColLoc? FilePosition => null;

    public override string ToString() => Text;
    public bool Equals(Location? other) => other is not null && Text == other.Text;
    public override bool Equals(object? obj) => obj is Location l && Equals(l);
    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);

    public static readonly Location Unknown = new UnknownLoc();

    /// <summary>The prefix a diagnostic shows: <c>file:line:col</c>, <c>name</c>, or nothing.</summary>
    public string DiagnosticPrefix => FilePosition is { } p ? p.Position : this switch
    {
        NameLoc n => n.Name,
        _ => "<unknown>",
    };
}

public sealed class UnknownLoc : Location
{
    public override string Text => "unknown";
}

public sealed class FileLineColLoc(string file, int line, int column) : Location
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Position => $"{File}:{Line.ToString(CultureInfo.InvariantCulture)}:{Column.ToString(CultureInfo.InvariantCulture)}";
    public override string Text => $"{Escape.Quote(File)}:{Line.ToString(CultureInfo.InvariantCulture)}:{Column.ToString(CultureInfo.InvariantCulture)}";
    public override FileLineColLoc FilePosition => this;
}

/// <summary>A named location, such as the ONNX node name, optionally wrapping where that name was found.</summary>
public sealed class NameLoc(string name, Location? child = null) : Location
{
    public string Name { get; } = name;
    public Location? Child { get; } = child;
    public override string Text => Child is null ? Escape.Quote(Name) : $"{Escape.Quote(Name)}({Child.Text})";
    public override FileLineColLoc? FilePosition => Child?.FilePosition;
}

/// <summary>An operation inlined from <see cref="Callee"/> into the call at <see cref="Caller"/>.</summary>
public sealed class CallSiteLoc(Location callee, Location caller) : Location
{
    public Location Callee { get; } = callee;
    public Location Caller { get; } = caller;
    public override string Text => $"callsite({Callee.Text} at {Caller.Text})";
    public override FileLineColLoc? FilePosition => Callee.FilePosition ?? Caller.FilePosition;
}

public static class Escape
{
    public static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length + 2);
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7F)
                    {
                        sb.Append('\\').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}
