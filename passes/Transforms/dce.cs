namespace Tessera.Passes.Transforms;

/// <summary>
/// Dead code elimination: erases pure ops whose results are unused, and blocks no path from the entry reaches.
/// Why: other passes leave garbage behind (a folded op's operands, a branch made constant), and cleaning it up
/// in one place keeps those passes simple. Erasing an op can make its operands' producers dead, so the pass
/// runs a worklist to a fixpoint instead of sweeping once.
/// </summary>
public sealed class DcePass : Pass
{
    public override string Flag => "dce";

    public override string Summary => "erases trivially dead ops and unreachable blocks";

    public override PassResult Run(Operation op, PassContext context)
    {
        int blocks = RemoveUnreachableBlocks(op);
        int ops = EraseDeadOps(op);
        Count("num-erased-blocks", blocks);
        Count("num-erased-ops", ops);
        return blocks + ops > 0 ? PassResult.Changed : PassResult.Unchanged;
    }

    /// <summary>Pure, not a terminator, and no result is used.</summary>
    public static bool IsTriviallyDead(Operation op) => GreedyRewriteDriver.IsTriviallyDead(op);

    /// <summary>Erases dead ops nested in <paramref name="root"/> (not the root) until none is left; returns how many ops were erased.</summary>
    public static int EraseDeadOps(Operation root)
    {
        var worklist = new Stack<Operation>();
        var queued = new HashSet<Operation>(ReferenceEqualityComparer.Instance);
        var all = root.Walk().Skip(1).ToList();
        for (int i = all.Count - 1; i >= 0; i--)
        {
            if (queued.Add(all[i]))
            {
                worklist.Push(all[i]);
            }
        }

        int erased = 0;
        while (worklist.Count > 0)
        {
            var op = worklist.Pop();
            queued.Remove(op);
            if (op.IsErased || op.ParentBlock is null || !IsTriviallyDead(op))
            {
                continue;
            }

            var producers = op.Operands.Select(v => v?.DefiningOp).OfType<Operation>().ToList();
            erased += op.Walk().Count();
            op.Erase();
            foreach (var p in producers)
            {
                if (!p.IsErased && queued.Add(p))
                {
                    worklist.Push(p);
                }
            }
        }

        return erased;
    }

    /// <summary>Removes non-entry blocks that no path from the entry block reaches, in every region nested in <paramref name="root"/>.</summary>
    public static int RemoveUnreachableBlocks(Operation root)
    {
        int removed = 0;
        var regions = root.Walk().SelectMany(o => o.Regions).Where(r => r.Blocks.Count > 1).ToList();
        foreach (var region in regions)
        {
            if (region.ParentOp is { IsErased: true })
            {
                continue;
            }

            removed += RemoveUnreachableBlocks(region);
        }

        return removed;
    }

    /// <summary>Removes the unreachable blocks of one region; leaves the region alone if a reachable op uses a value from one.</summary>
    public static int RemoveUnreachableBlocks(Region region)
    {
        var reachable = new HashSet<Block>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Block>();
        if (region.EntryBlock is { } entry)
        {
            reachable.Add(entry);
            stack.Push(entry);
        }

        while (stack.Count > 0)
        {
            foreach (var s in stack.Pop().SuccessorBlocks)
            {
                if (ReferenceEquals(s.ParentRegion, region) && reachable.Add(s))
                {
                    stack.Push(s);
                }
            }
        }

        var dead = region.Blocks.Where(b => !reachable.Contains(b)).ToList();
        if (dead.Count == 0)
        {
            return 0;
        }

        // A reachable op using a value from a dead block is invalid IR (no dominance); leave it for the verifier.
        var deadSet = new HashSet<Block>(dead, ReferenceEqualityComparer.Instance);
        var defined = dead.SelectMany(b => b.Arguments.Cast<Value>().Concat(b.Operations.SelectMany(o => o.Walk()).SelectMany(o => o.Results)));
        if (defined.Any(v => v.Users.Any(u => BlockIn(region, u) is not { } ub || !deadSet.Contains(ub))))
        {
            return 0;
        }

        // Drop references first: dead blocks may use each other's values and branch to each other.
        foreach (var b in dead)
        {
            foreach (var op in b.Operations)
            {
                op.DropAllReferences();
            }
        }

        foreach (var b in dead)
        {
            foreach (var op in b.Operations)
            {
                op.Erase();
            }

            region.RemoveBlock(b);
        }

        return dead.Count;
    }

    /// <summary>The block of <paramref name="region"/> that holds <paramref name="op"/> (directly or nested), or null.</summary>
    private static Block? BlockIn(Region region, Operation op)
    {
        for (Operation? o = op; o is not null; o = o.ParentOp)
        {
            if (ReferenceEquals(o.ParentRegion, region))
            {
                return o.ParentBlock;
            }
        }

        return null;
    }
}
