using System.Text.RegularExpressions;

namespace Tessera.IR.Tools;

/// <summary>
/// Checks diagnostics against annotations in the source, as mlir-opt's --verify-diagnostics does:
/// <c>// expected-error @+1 {{text}}</c> expects an error containing "text" on the next line;
/// <c>@-2</c> two lines up, <c>@7</c> line 7, no <c>@</c> the same line. Also expected-warning, -note and -remark.
/// </summary>
public static partial class DiagnosticVerifier
{
    public sealed record Expectation(Severity Severity, string Text, int Line, int AnnotationLine)
    {
        public bool Matched { get; set; }
    }

    [GeneratedRegex(@"expected-(?<sev>error|warning|note|remark)\s*(?:@(?<rel>[+-]\d+|\d+))?\s*\{\{(?<text>.*?)\}\}")]
    private static partial Regex Annotation();

    public static List<Expectation> Parse(string source)
    {
        var list = new List<Expectation>();
        var lines = source.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (Match m in Annotation().Matches(lines[i]))
            {
                int line = i + 1;
                if (m.Groups["rel"].Success)
                {
                    var rel = m.Groups["rel"].Value;
                    int n = int.Parse(rel, System.Globalization.CultureInfo.InvariantCulture);
                    line = rel[0] is '+' or '-' ? i + 1 + n : n;
                }

                var sev = m.Groups["sev"].Value switch
                {
                    "error" => Severity.Error,
                    "warning" => Severity.Warning,
                    "note" => Severity.Note,
                    _ => Severity.Remark,
                };
                list.Add(new Expectation(sev, m.Groups["text"].Value, line, i + 1));
            }
        }

        return list;
    }

    /// <summary>Matches reported diagnostics (and their notes) to expectations; returns one message per mismatch.</summary>
    public static List<string> Verify(string file, string source, IEnumerable<Diagnostic> reported)
    {
        var expected = Parse(source);
        var problems = new List<string>();
        var all = reported.SelectMany(d => new[] { d }.Concat(d.Notes)).ToList();
        foreach (var d in all)
        {
            var pos = d.Location.FilePosition;
            var match = expected.FirstOrDefault(e => !e.Matched && e.Severity == d.Severity && pos is not null && e.Line == pos.Line && d.Message.Contains(e.Text, StringComparison.Ordinal));
            if (match is not null)
            {
                match.Matched = true;
            }
            else if (d.Severity != Severity.Note)
            {
                problems.Add($"{d.Location.DiagnosticPrefix}: unexpected {Diagnostic.SeverityText(d.Severity)}: {d.Message}");
            }
        }

        foreach (var e in expected.Where(e => !e.Matched))
        {
            problems.Add($"{file}:{e.AnnotationLine}: expected {Diagnostic.SeverityText(e.Severity)} on line {e.Line} was not produced: {e.Text}");
        }

        return problems;
    }
}
