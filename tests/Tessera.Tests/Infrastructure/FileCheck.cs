using System.Text;
using System.Text.RegularExpressions;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// A small FileCheck: the expectations are written by hand in the case file, independently of the code under test.
/// Supports CHECK, CHECK-NEXT, CHECK-SAME, CHECK-NOT, CHECK-LABEL, CHECK-COUNT-n, regex <c>{{...}}</c>,
/// captures <c>[[NAME:regex]]</c> and uses <c>[[NAME]]</c>, so tests capture value names instead of hard-coding %12.
/// </summary>
public static class FileCheck
{
    private sealed record Directive(string Kind, string Pattern, int Line, int Count = 1);

    private static readonly Regex DirectiveRe = new(@"//\s*CHECK(?<kind>-NEXT|-SAME|-NOT|-LABEL|-COUNT-(?<n>\d+))?:\s?(?<pat>.*)$", RegexOptions.Compiled);

    public static bool HasChecks(string source) => source.Split('\n').Any(l => DirectiveRe.IsMatch(l));

    /// <summary>Checks <paramref name="output"/> against the CHECK lines of <paramref name="source"/>; returns null or a failure message.</summary>
    public static string? Check(string source, string output)
    {
        var directives = new List<Directive>();
        var srcLines = source.Split('\n');
        for (int i = 0; i < srcLines.Length; i++)
        {
            var m = DirectiveRe.Match(srcLines[i]);
            if (m.Success)
            {
                var kind = m.Groups["kind"].Value;
                int count = 1;
                if (kind.StartsWith("-COUNT-", StringComparison.Ordinal))
                {
                    count = int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture);
                    kind = "-COUNT";
                }

                directives.Add(new Directive(kind, m.Groups["pat"].Value.TrimEnd('\r').Trim(), i + 1, count));
            }
        }

        if (directives.Count == 0)
        {
            return "no CHECK lines";
        }

        var lines = output.Split('\n');
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        int pos = 0;          // next line to search from
        int lastLine = -1;    // line of the last positive match
        int lastCol = 0;      // column after the last positive match (for CHECK-SAME)
        var pendingNot = new List<Directive>();
        foreach (var d in directives)
        {
            if (d.Kind == "-NOT")
            {
                pendingNot.Add(d);
                continue;
            }

            int count = d.Kind == "-COUNT" ? d.Count : 1;
            for (int k = 0; k < count; k++)
            {
                int found = -1;
                Match? match = null;
                if (d.Kind == "-SAME")
                {
                    if (lastLine < 0)
                    {
                        return $"line {d.Line}: CHECK-SAME with no previous match";
                    }

                    var re = Compile(d.Pattern, vars, out _);
                    match = re.Match(lines[lastLine], lastCol);
                    if (!match.Success)
                    {
                        return Fail(d, output, $"not found on the same line: {lines[lastLine]}");
                    }

                    found = lastLine;
                }
                else
                {
                    var re = Compile(d.Pattern, vars, out _);
                    int limit = d.Kind == "-NEXT" ? Math.Min(lines.Length, lastLine + 2) : lines.Length;
                    int start = d.Kind == "-NEXT" ? lastLine + 1 : pos;
                    for (int i = start; i < limit; i++)
                    {
                        match = re.Match(lines[i]);
                        if (match.Success)
                        {
                            found = i;
                            break;
                        }
                    }

                    if (found < 0)
                    {
                        return Fail(d, output, d.Kind == "-NEXT" ? "not found on the next line" : "not found");
                    }
                }

                foreach (var n in pendingNot)
                {
                    var notRe = Compile(n.Pattern, vars, out _);
                    for (int i = Math.Max(pos, 0); i < found; i++)
                    {
                        if (notRe.IsMatch(lines[i]))
                        {
                            return Fail(n, output, $"CHECK-NOT pattern found on output line {i + 1}: {lines[i]}");
                        }
                    }
                }

                pendingNot.Clear();
                Bind(d.Pattern, match!, vars);
                lastLine = found;
                lastCol = match!.Index + match.Length;
                pos = found + 1;
            }
        }

        foreach (var n in pendingNot)
        {
            var notRe = Compile(n.Pattern, vars, out _);
            for (int i = pos; i < lines.Length; i++)
            {
                if (notRe.IsMatch(lines[i]))
                {
                    return Fail(n, output, $"CHECK-NOT pattern found on output line {i + 1}: {lines[i]}");
                }
            }
        }

        return null;
    }

    private static string Fail(Directive d, string output, string why) =>
        $"CHECK{d.Kind} on line {d.Line} ({d.Pattern}): {why}\n--- output ---\n{output}";

    private static readonly Regex Token = new(@"\{\{(?<re>.*?)\}\}|\[\[(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?<def>.*?))?\]\]", RegexOptions.Compiled);

    private static Regex Compile(string pattern, Dictionary<string, string> vars, out List<string> defs)
    {
        defs = [];
        var sb = new StringBuilder();
        int last = 0;
        foreach (Match m in Token.Matches(pattern))
        {
            sb.Append(Regex.Escape(pattern[last..m.Index]));
            if (m.Groups["re"].Success)
            {
                sb.Append("(?:").Append(m.Groups["re"].Value).Append(')');
            }
            else if (m.Groups["def"].Success)
            {
                var name = m.Groups["name"].Value;
                defs.Add(name);
                sb.Append("(?<").Append(name).Append('>').Append(m.Groups["def"].Value).Append(')');
            }
            else
            {
                var name = m.Groups["name"].Value;
                if (!vars.TryGetValue(name, out var v))
                {
                    throw new InvalidOperationException($"FileCheck variable [[{name}]] used before it is defined");
                }

                sb.Append(Regex.Escape(v));
            }

            last = m.Index + m.Length;
        }

        sb.Append(Regex.Escape(pattern[last..]));
        return new Regex(sb.ToString());
    }

    private static void Bind(string pattern, Match match, Dictionary<string, string> vars)
    {
        foreach (Match m in Token.Matches(pattern))
        {
            if (m.Groups["def"].Success)
            {
                var name = m.Groups["name"].Value;
                vars[name] = match.Groups[name].Value;
            }
        }
    }
}
