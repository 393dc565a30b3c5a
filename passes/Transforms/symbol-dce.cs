namespace Tessera.Passes.Transforms;

/// <summary>
/// Symbol dead code elimination: erases private symbols (functions, globals) that nothing live refers to.
/// Why: after inlining, the private callees stay behind with no callers; and imported models often carry
/// helper functions nobody calls. Public symbols are the module's interface and are always kept.
/// Reachability starts at every public symbol and every non-symbol op, and follows symbol references transitively.
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

    /// <summary>The private symbols directly in <paramref name="table"/>'s region that no live op references, in IR order.</summary>
    public static List<Operation> FindDeadSymbols(Operation table)
    {
        var topLevel = table.Regions.SelectMany(r => r.Operations).ToList();
        var symbols = new SymbolTable(table);
        var live = new HashSet<Operation>(ReferenceEqualityComparer.Instance);
        var worklist = new Stack<Operation>();

        void MarkLive(Operation o)
        {
            if (live.Add(o))
            {
                worklist.Push(o);
            }
        }

        // Roots, pushed in reverse so they are processed in IR order.
        for (int i = topLevel.Count - 1; i >= 0; i--)
        {
            var o = topLevel[i];
            if (SymbolTable.GetName(o) is null || !SymbolTable.IsPrivate(o))
            {
                MarkLive(o);
            }
        }

        while (worklist.Count > 0)
        {
            var o = worklist.Pop();
            foreach (var (_, reference) in SymbolTable.Uses(o))
            {
                // Only the root of a reference names a symbol of this table; nested parts live inside it.
                if (symbols.Lookup(reference.Root) is { } target && ReferenceEquals(target.ParentOp, table))
                {
                    MarkLive(target);
                }
            }
        }

        return topLevel.Where(o => !live.Contains(o)).ToList();
    }
}
