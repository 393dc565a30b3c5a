using System.Text;

namespace Tessera.IR;

public enum Severity { Error, Warning, Note, Remark }

/// <summary>A coded message at a location. Codes are listed in <see cref="DiagnosticCodes"/> and docs/diagnostics.md.</summary>
public sealed record Diagnostic(Severity Severity, string Code, string Message, Location Location)
{
    public List<Diagnostic> Notes { get; } = [];

    public Diagnostic WithNote(string message, Location? location = null)
    {
        Notes.Add(new Diagnostic(Severity.Note, "", message, location ?? Location));
        return this;
    }

    public static string SeverityText(Severity s) => s switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        Severity.Note => "note",
        Severity.Remark => "remark",
        _ => throw new InvalidOperationException($"unknown severity {s}"),
    };

    /// <summary><c>file:line:col: error TSR0101: text</c>, then its notes, one per line.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        Append(sb, this);
        foreach (var n in Notes)
        {
            sb.Append('\n');
            Append(sb, n);
        }

        return sb.ToString();
    }

    /// <summary>The form MSBuild and IDEs recognise: <c>file(line,col): error TSR0101: text</c>.</summary>
    public string RenderMsBuild()
    {
        var pos = Location.FilePosition;
        var where = pos is null ? Location.DiagnosticPrefix : $"{pos.File}({pos.Line},{pos.Column})";
        return $"{where}: {SeverityText(Severity)} {Code}: {Message}";
    }

    private static void Append(StringBuilder sb, Diagnostic d)
    {
        sb.Append(d.Location.DiagnosticPrefix).Append(": ").Append(SeverityText(d.Severity));
        if (d.Code.Length > 0)
        {
            sb.Append(' ').Append(d.Code);
        }

        sb.Append(": ").Append(d.Message);
    }

    public override string ToString() => Render();
}

/// <summary>Collects diagnostics in the order they were reported.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];
    public IReadOnlyList<Diagnostic> Items => _items;
    public bool HasErrors => _items.Any(d => d.Severity == Severity.Error);

    public Diagnostic Error(string code, string message, Location location) => Add(new Diagnostic(Severity.Error, code, message, location));
    public Diagnostic Warning(string code, string message, Location location) => Add(new Diagnostic(Severity.Warning, code, message, location));
    public Diagnostic Remark(string code, string message, Location location) => Add(new Diagnostic(Severity.Remark, code, message, location));

    public Diagnostic Add(Diagnostic d)
    {
        _items.Add(d);
        return d;
    }

    public void AddRange(IEnumerable<Diagnostic> ds) => _items.AddRange(ds);
    public void Clear() => _items.Clear();
    public string Render() => string.Join("\n", _items.Select(d => d.Render()));
}

/// <summary>Thrown by readers for a user error that stops them; carries a coded diagnostic, never an internal failure.</summary>
public sealed class DiagnosticException(Diagnostic diagnostic) : Exception(diagnostic.Render())
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}

/// <summary>Every diagnostic code the IR core emits. Frontends and targets add their own ranges.</summary>
public static class DiagnosticCodes
{
    // 01xx: text parser
    public const string ParseExpected = "TSR0101";
    public const string ParseUndefinedValue = "TSR0102";
    public const string ParseRedefinition = "TSR0103";
    public const string ParseUnknownOp = "TSR0104";
    public const string ParseBadType = "TSR0105";
    public const string ParseBadAttribute = "TSR0106";
    public const string ParseTooDeep = "TSR0107";
    public const string ParseTypeMismatch = "TSR0108";
    public const string ParseUndefinedBlock = "TSR0109";
    public const string ParseBadLiteral = "TSR0110";

    // 02xx: verifier
    public const string VerifyOperands = "TSR0201";
    public const string VerifyResults = "TSR0202";
    public const string VerifyAttribute = "TSR0203";
    public const string VerifyRegions = "TSR0204";
    public const string VerifyTerminator = "TSR0205";
    public const string VerifyDominance = "TSR0206";
    public const string VerifyOpSpecific = "TSR0207";
    public const string VerifyBrokenIr = "TSR0208";
    public const string VerifyUnregistered = "TSR0209";
    public const string VerifySymbol = "TSR0210";
    public const string VerifySuccessors = "TSR0211";
    public const string VerifyIsolation = "TSR0212";

    // 03xx: pass manager and pipelines
    public const string PipelineSyntax = "TSR0301";
    public const string PipelineUnknownPass = "TSR0302";
    public const string PipelineBadOption = "TSR0303";
    public const string PassFailed = "TSR0304";
    public const string PassInternalError = "TSR0305";
    public const string PassUnchangedLie = "TSR0306";
    public const string PipelineAnchor = "TSR0307";

    // 04xx: command line and files
    public const string FileNotFound = "TSR0401";
    public const string FileUnreadable = "TSR0402";
    public const string OutputRefused = "TSR0403";
    public const string VerifyDiagnosticsMismatch = "TSR0404";
    public const string BadArgument = "TSR0405";
}
