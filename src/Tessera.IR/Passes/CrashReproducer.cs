using System.Globalization;
using System.Text;

namespace Tessera.IR.Passes;

/// <summary>
/// Crash reproducers: a <c>.tir</c> file whose header records the pipeline and the failure, followed by the IR of the
/// root as it was before the failing pass ran. <c>tessera opt --run-reproducer FILE</c> reads it back with <see cref="TryRead"/>.
/// <code>
/// // tessera-reproducer: pipeline=builtin.module(test.func(cse))
/// // failing pass: cse
/// // local pipeline: builtin.module(test.func(cse))
/// // exception: System.InvalidOperationException: boom
/// builtin.module ({ ... })
/// </code>
/// </summary>
public static class CrashReproducer
{
    public const string HeaderPrefix = "// tessera-reproducer: pipeline=";

    /// <summary>The file text. Header values are kept on one line each.</summary>
    public static string Format(string pipeline, string failingPass, string localPipeline, string failure, string ir)
    {
        var sb = new StringBuilder();
        sb.Append(HeaderPrefix).Append(OneLine(pipeline)).Append('\n');
        sb.Append("// failing pass: ").Append(OneLine(failingPass)).Append('\n');
        sb.Append("// local pipeline: ").Append(OneLine(localPipeline)).Append('\n');
        sb.Append("// ").Append(OneLine(failure)).Append('\n');
        sb.Append(ir);
        if (ir.Length == 0 || ir[^1] != '\n')
        {
            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Reads the pipeline from the header and the IR after it; null if the text is not a reproducer.</summary>
    public static (string Pipeline, string Ir)? TryRead(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int eol = text.IndexOf('\n', StringComparison.Ordinal);
        string first = (eol < 0 ? text : text[..eol]).TrimEnd('\r');
        if (!first.StartsWith(HeaderPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        string pipeline = first[HeaderPrefix.Length..].Trim();
        int pos = eol < 0 ? text.Length : eol + 1;
        while (pos < text.Length && string.CompareOrdinal(text, pos, "//", 0, 2) == 0)
        {
            int next = text.IndexOf('\n', pos);
            pos = next < 0 ? text.Length : next + 1;
        }

        return (pipeline, text[pos..]);
    }

    /// <summary>
    /// Writes <paramref name="content"/> to a new file and returns its path. With <paramref name="path"/> null the file is
    /// <c>tessera-crash-&lt;timestamp&gt;-&lt;n&gt;.tir</c> in the temp directory; an existing file is never overwritten
    /// (a <c>-n</c> suffix is added before the extension).
    /// </summary>
    public static string Write(string? path, string content)
    {
        string dir, stem, ext;
        if (path is null)
        {
            dir = Path.GetTempPath();
            stem = "tessera-crash-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            ext = ".tir";
        }
        else
        {
            dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            stem = Path.GetFileNameWithoutExtension(path);
            ext = Path.GetExtension(path);
        }

        var bytes = new UTF8Encoding(false).GetBytes(content);
        for (int n = 0; n < 10000; n++)
        {
            string candidate = path is not null && n == 0
                ? Path.GetFullPath(path)
                : Path.Combine(dir, $"{stem}-{n.ToString(CultureInfo.InvariantCulture)}{ext}");
            try
            {
                using var fs = new FileStream(candidate, FileMode.CreateNew, FileAccess.Write);
                fs.Write(bytes);
                return candidate;
            }
            catch (IOException) when (File.Exists(candidate))
            {
                // taken: try the next suffix
            }
        }

        throw new IOException($"could not find a free file name for the reproducer near '{Path.Combine(dir, stem + ext)}'");
    }

    internal static string OneLine(string s) => s.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
