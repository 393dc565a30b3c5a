namespace Tessera.Passes.Transforms;

/// <summary>
/// Symbol dead code elimination: erases private symbols (functions, globals) that nothing live refers to.
/// Why: after inlining, the private callees stay behind with no callers; and imported models often carry
/// helper functions nobody calls. Public symbols are the module's interface and are always kept.
/// Liveness starts at the anchor table, whose non-private symbols and non-symbol ops are live, and spreads along
/// symbol references (<c>@a</c>, and nested paths such as <c>@mod::@f</c>, which keep every symbol on the path)
/// and into nested symbol tables that are themselves live. Everything runs off an explicit worklist.
/// </summary>
public sealed class SymbolDcePass : Pass
{
    public override string Flag => "symbol-dce";

    public override string Summary => "erases private symbols that are not referenced from a live op";

    public override PassResult Run(Operation op, PassContext context)
    {
        if (!op.HasTrait(OpTraits.SymbolTable))
        {
            return PassResult.Unchanged;
        }

        var dead = FindDeadSymbols(op);
        foreach (var d in dead)
        {
            // Dead symbols may reference each other; unlink everything before erasing any of them.
            d.DropAllReferences();
        }

        foreach (var d in dead)
        {
            d.Erase();
        }

        Count("num-dce'd", dead.Count);
        return dead.Count > 0 ? PassResult.Changed : PassResult.Unchanged;
    }

    /// <summary>True if <paramref name="op"/> is kept regardless of references: it is not a symbol, or it is not private.</summary>
    public static bool IsRoot(Operation op) => SymbolTable.GetName(op) is null || !SymbolTable.IsPrivate(op);

    /// <summary>
    /// The private symbols that no live op references, in the anchor table and in every live nested table, in IR
    /// pre-order. Nothing is changed.
    /// </summary>
    public static List<Operation> FindDeadSymbols(Operation table)
    {
        var live = new HashSet<Operation>(ReferenceEqualityComparer.Instance);
        var worklist = new Stack<Operation>();

        void MarkLive(Operation o)
        {
            if (live.Add(o))
            {
                worklist.Push(o);
            }
        }

        MarkLive(table);
        while (worklist.Count > 0)
        {
            var o = worklist.Pop();
            if (o.HasTrait(OpTraits.SymbolTable))
            {
                // A live table keeps its roots; its other contents must be reached by reference. Only the table
                // op's own attributes are scanned here, so references from its dead symbols do not count.
                foreach (var child in o.Regions.SelectMany(r => r.Operations))
                {
                    if (IsRoot(child))
                    {
                        MarkLive(child);
                    }
                }

                foreach (var (user, reference) in SymbolTable.Uses(o).Where(u => ReferenceEquals(u.User, o)))
                {
                    MarkPath(ResolvePath(user, reference), MarkLive);
                }

                continue;
            }

            foreach (var (user, reference) in SymbolTable.Uses(o))
            {
                MarkPath(ResolvePath(user, reference), MarkLive);
            }
        }

        // Collect from live tables only: the contents of a dead table go with it.
        var dead = new List<Operation>();
        foreach (var t in table.Walk().Where(o => o.HasTrait(OpTraits.SymbolTable) && live.Contains(o)))
        {
            dead.AddRange(t.Regions.SelectMany(r => r.Operations).Where(o => SymbolTable.GetName(o) is not null && !live.Contains(o)));
        }

        return dead;
    }

    private static void MarkPath(List<Operation> path, Action<Operation> mark)
    {
        foreach (var p in path)
        {
            mark(p);
        }
    }

    /// <summary>
    /// The symbols a reference goes through, outermost first: <c>@m::@f</c> from inside the table that holds
    /// <c>@m</c> gives [m, f]. Resolution starts at the table nearest to <paramref name="user"/>; a missing
    /// name ends the path early.
    /// </summary>
    public static List<Operation> ResolvePath(Operation user, SymbolRefAttr reference)
    {
        var path = new List<Operation>();
        var tableOp = SymbolTable.NearestTable(user);
        if (tableOp is null)
        {
            return path;
        }

        var op = new SymbolTable(tableOp).Lookup(reference.Root);
        for (int i = 0; op is not null; i++)
        {
            path.Add(op);
            if (i == reference.Nested.Count || !op.HasTrait(OpTraits.SymbolTable))
            {
                break;
            }

            op = new SymbolTable(op).Lookup(reference.Nested[i]);
        }

        return path;
    }
}
