namespace Tessera.IR;

/// <summary>Entry points for reading the text form.</summary>
public static class Parser
{
    /// <summary>Deepest nesting of regions, attributes or types the parser accepts; it keeps recursion bounded.</summary>
    public const int MaxNesting = 200;

    /// <summary>
    /// Parses a whole file. A single top-level <c>builtin.module</c> is returned as is; any other top-level ops
    /// are wrapped in one. Throws <see cref="DiagnosticException"/> at the first error.
    /// </summary>
    public static Operation ParseModule(Context ctx, string text, string file) => new OpParser(ctx, text, file).ParseTopLevel();

    public static Type ParseType(Context ctx, string text) => new OpParser(ctx, text, "<type>").ParseWholeType();

    public static Attribute ParseAttribute(Context ctx, string text) => new OpParser(ctx, text, "<attribute>").ParseWholeAttribute();
}
