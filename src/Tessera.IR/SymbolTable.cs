namespace Tessera.IR;

/// <summary>Symbol lookups and uses for ops with the SymbolTable trait (such as builtin.module).</summary>
public sealed class SymbolTable
{
    public const string SymNameAttr = "sym_name";
    public const string VisibilityAttr = "sym_visibility";

    private readonly Dictionary<string, Operation> _symbols = new(StringComparer.Ordinal);

    public SymbolTable(Operation tableOp)
    {
        TableOp = tableOp;
        foreach (var op in tableOp.Regions.SelectMany(r => r.Operations))
        {
            if (GetName(op) is { } name)
            {
                _symbols.TryAdd(name, op);
            }
        }
    }

    public Operation TableOp { get; }

    public Operation? Lookup(string name) => _symbols.GetValueOrDefault(name);

    public static string? GetName(Operation op) => op.GetAttr<StringAttr>(SymNameAttr)?.Value;

    public static bool IsPrivate(Operation op) => op.GetAttr<StringAttr>(VisibilityAttr)?.Value is "private" or "nested";

    /// <summary>Finds the nearest enclosing op with the SymbolTable trait.</summary>
    public static Operation? NearestTable(Operation op)
    {
        for (var p = op.ParentOp; p is not null; p = p.ParentOp)
        {
            if (p.HasTrait(OpTraits.SymbolTable))
            {
                return p;
            }
        }

        return null;
    }

    /// <summary>Resolves <paramref name="reference"/> from the table nearest to <paramref name="from"/>.</summary>
    public static Operation? Resolve(Operation from, SymbolRefAttr reference)
    {
        var table = from.HasTrait(OpTraits.SymbolTable) ? from : NearestTable(from);
        if (table is null)
        {
            return null;
        }

        var op = new SymbolTable(table).Lookup(reference.Root);
        foreach (var n in reference.Nested)
        {
            if (op is null || !op.HasTrait(OpTraits.SymbolTable))
            {
                return null;
            }

            op = new SymbolTable(op).Lookup(n);
        }

        return op;
    }

    /// <summary>Every symbol reference in the attributes of <paramref name="root"/> and the ops nested in it, in walk order.</summary>
    public static IEnumerable<(Operation User, SymbolRefAttr Ref)> Uses(Operation root)
    {
        foreach (var op in root.Walk())
        {
            foreach (var (_, attr) in op.Attributes)
            {
                foreach (var r in SymbolRefsIn(attr))
                {
                    yield return (op, r);
                }
            }
        }
    }

    private static IEnumerable<SymbolRefAttr> SymbolRefsIn(Attribute a)
    {
        var stack = new Stack<Attribute>();
        stack.Push(a);
        while (stack.Count > 0)
        {
            switch (stack.Pop())
            {
                case SymbolRefAttr s:
                    yield return s;
                    break;
                case ArrayAttr arr:
                    for (int i = arr.Elements.Count - 1; i >= 0; i--)
                    {
                        stack.Push(arr.Elements[i]);
                    }

                    break;
                case DictionaryAttr d:
                    for (int i = d.Entries.Count - 1; i >= 0; i--)
                    {
                        stack.Push(d.Entries[i].Value);
                    }

                    break;
            }
        }
    }
}
