using System.Text;

namespace Tessera.IR.Passes;

/// <summary>One entry of a pipeline: a pass, or a nested pass manager run on matching child ops.</summary>
public readonly record struct PipelineItem
{
    public PipelineItem(Pass pass) { Pass = pass; Nested = null; }
    public PipelineItem(OpPassManager nested) { Pass = null; Nested = nested; }

    public Pass? Pass { get; }
    public OpPassManager? Nested { get; }
}

/// <summary>
/// An ordered list of passes and nested pass managers, anchored on an op name. Running it on an op runs each pass
/// on that op, and each nested manager on every direct child op (ops in the op's regions' blocks, not deeper)
/// whose name matches the nested anchor, in block order.
/// </summary>
public sealed class OpPassManager
{
    /// <summary>Deepest nesting of pass managers accepted, whether parsed or built.</summary>
    public const int MaxNesting = 32;

    private readonly List<PipelineItem> _items = [];

    public OpPassManager(string anchor)
    {
        if (!PipelineParser.IsValidName(anchor))
        {
            throw new ArgumentException($"'{anchor}' is not a valid op name", nameof(anchor));
        }

        Anchor = anchor;
    }

    /// <summary>The op name this manager runs on, e.g. <c>builtin.module</c> or <c>func.func</c>.</summary>
    public string Anchor { get; }

    public IReadOnlyList<PipelineItem> Items => _items;

    public OpPassManager AddPass(Pass pass)
    {
        ArgumentNullException.ThrowIfNull(pass);
        _items.Add(new PipelineItem(pass));
        return this;
    }

    /// <summary>Appends a nested manager anchored on <paramref name="anchor"/> and returns it.</summary>
    public OpPassManager Nest(string anchor)
    {
        var nested = new OpPassManager(anchor);
        _items.Add(new PipelineItem(nested));
        return nested;
    }

    public void AddNested(OpPassManager nested)
    {
        ArgumentNullException.ThrowIfNull(nested);
        _items.Add(new PipelineItem(nested));
    }

    internal void AddRange(IEnumerable<PipelineItem> items) => _items.AddRange(items);

    /// <summary>Canonical pipeline text, e.g. <c>builtin.module(func.func(canonicalize{max-iterations=5}),symbol-dce)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Append(sb, this, 0);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, OpPassManager pm, int depth)
    {
        if (depth > MaxNesting)
        {
            sb.Append("<<too deep>>");
            return;
        }

        sb.Append(pm.Anchor).Append('(');
        for (int i = 0; i < pm._items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            var item = pm._items[i];
            if (item.Pass is { } p)
            {
                sb.Append(FormatPass(p));
            }
            else
            {
                Append(sb, item.Nested!, depth + 1);
            }
        }

        sb.Append(')');
    }

    /// <summary>A pass as pipeline text: <c>flag</c> or <c>flag{opt=value ...}</c> with its non-default options.</summary>
    public static string FormatPass(Pass pass)
    {
        var set = pass.Options.Where(o => !o.IsDefault).Select(o => o.Name + "=" + QuoteIfNeeded(o.ValueText)).ToList();
        return set.Count == 0 ? pass.Flag : $"{pass.Flag}{{{string.Join(" ", set)}}}";
    }

    private static string QuoteIfNeeded(string value)
    {
        if (value.Length > 0 && value.All(c => !char.IsWhiteSpace(c) && c is not (',' or '{' or '}' or '"' or '(' or ')' or '=' or '\\')))
        {
            return value;
        }

        var sb = new StringBuilder("\"");
        foreach (char c in value)
        {
            if (c is '"' or '\\')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.Append('"').ToString();
    }

    /// <summary>
    /// Checks the nesting depth and that every pass with an <see cref="Pass.AnchorOp"/> sits in a manager with that anchor.
    /// Reports TSR0307 for each misplaced pass. Iterative, so any shape of built pipeline is safe.
    /// </summary>
    public bool Validate(DiagnosticBag diags)
    {
        bool ok = true;
        var stack = new Stack<(OpPassManager Pm, int Depth)>();
        stack.Push((this, 0));
        var order = new List<(OpPassManager Pm, int Depth)>();
        while (stack.Count > 0)
        {
            var (pm, depth) = stack.Pop();
            order.Add((pm, depth));
            for (int i = pm._items.Count - 1; i >= 0; i--)
            {
                if (pm._items[i].Nested is { } n)
                {
                    stack.Push((n, depth + 1));
                }
            }
        }

        foreach (var (pm, depth) in order)
        {
            if (depth >= MaxNesting)
            {
                diags.Error(DiagnosticCodes.PipelineSyntax,
                    $"pass managers nested deeper than {PassRegistry.Int(MaxNesting)} levels", Location.Unknown);
                return false;
            }

            foreach (var item in pm._items)
            {
                if (item.Pass is { AnchorOp: { } a } p && a != pm.Anchor)
                {
                    diags.Error(DiagnosticCodes.PipelineAnchor,
                        $"pass '{p.Flag}' runs on '{a}' but is placed under '{pm.Anchor}'", Location.Unknown);
                    ok = false;
                }
            }
        }

        return ok;
    }
}
