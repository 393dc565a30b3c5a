namespace Tessera.IR.Tools;

/// <summary>Splits a file at <c>// -----</c> lines, as --split-input-file does, keeping line numbers.</summary>
public static class SplitInput
{
    public sealed record Chunk(string Text, int FirstLine);

    public static IEnumerable<Chunk> Split(string text)
    {
        var lines = text.Split('\n');
        int start = 0;
        for (int i = 0; i <= lines.Length; i++)
        {
            if (i == lines.Length || lines[i].TrimEnd('\r').Trim() == "// -----")
            {
                // Blank lines keep the chunk's line numbers equal to the file's.
                var padded = string.Concat(Enumerable.Repeat("\n", start)) + string.Join("\n", lines[start..i]);
                yield return new Chunk(padded, start + 1);
                start = i + 1;
            }
        }
    }
}
