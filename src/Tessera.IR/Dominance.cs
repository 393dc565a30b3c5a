namespace Tessera.IR;

/// <summary>
/// Dominance over the IR below (and around) a root operation. Block dominance is computed lazily, once per region,
/// with the Cooper–Harvey–Kennedy iterative algorithm over reverse post-order. Nothing here recurses.
/// <para>
/// Rules: a block dominates itself; a block unreachable from its region's entry block is dominated by every block of
/// its region (as in MLIR and LLVM), while an unreachable block dominates no reachable block but itself. Regions of
/// ops with the <see cref="OpTraits.NoTerminator"/> trait, and single-block regions, have no CFG: only the entry block
/// is reachable in them.
/// </para>
/// </summary>
public sealed class DominanceInfo
{
    /// <summary>Bound on parent-chain walks, so that broken IR with a cycle in its nesting cannot hang a query.</summary>
    private const int MaxAncestorSteps = 1 << 22;

    private readonly Dictionary<Region, RegionDominance> _regions = new(ReferenceEqualityComparer.Instance);

    public DominanceInfo(Operation root)
    {
        Root = root;
    }

    public Operation Root { get; }

    /// <summary>True if <paramref name="a"/> dominates <paramref name="b"/>; both must be in the same region (a dominates a).</summary>
    public bool Dominates(Block a, Block b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        var region = a.ParentRegion;
        if (region is null || !ReferenceEquals(region, b.ParentRegion))
        {
            return false;
        }

        return Get(region).Dominates(a, b);
    }

    /// <summary>
    /// True if <paramref name="a"/> properly dominates <paramref name="b"/>: <paramref name="a"/> is not
    /// <paramref name="b"/>, does not enclose <paramref name="b"/>, and comes before it (or before the ancestor of
    /// <paramref name="b"/> in <paramref name="a"/>'s region) in the same block or in a dominating block.
    /// </summary>
    public bool ProperlyDominates(Operation a, Operation b)
    {
        if (ReferenceEquals(a, b) || a.ParentBlock is not { } aBlock || aBlock.ParentRegion is not { } region)
        {
            return false;
        }

        var ancestor = FindAncestorInRegion(b, region);
        return ancestor is not null && ProperlyDominatesInRegion(a, ancestor);
    }

    /// <summary>
    /// True if the definition of <paramref name="v"/> dominates <paramref name="user"/>. A block argument dominates its
    /// whole block (and everything nested in it); an op result dominates what follows the op, but nothing nested in
    /// the op itself. A use in a nested region is checked at the user's ancestor that lies in the value's region.
    /// </summary>
    public bool Dominates(Value v, Operation user)
    {
        Block? defBlock;
        Operation? defOp = null;
        switch (v)
        {
            case BlockArgument arg:
                defBlock = arg.Owner;
                break;
            case OpResult result:
                defOp = result.Owner;
                defBlock = defOp.ParentBlock;
                break;
            default:
                return false;
        }

        if (defBlock?.ParentRegion is not { } region)
        {
            return false;
        }

        var ancestor = FindAncestorInRegion(user, region);
        if (ancestor is null)
        {
            return false;
        }

        return defOp is null ? Dominates(defBlock, ancestor.ParentBlock!) : ProperlyDominatesInRegion(defOp, ancestor);
    }

    /// <summary>True if the block is reachable from its region's entry block (blocks outside any region are not).</summary>
    public bool IsReachable(Block b) => b.ParentRegion is { } r && Get(r).IsReachable(b);

    /// <summary>
    /// For each block of <paramref name="region"/> (by index), the index of its immediate dominator: the entry maps
    /// to itself, unreachable blocks to -1. Passes walk the dominator tree with this (cse).
    /// </summary>
    public IReadOnlyList<int> ImmediateDominators(Region region) => Get(region).Idoms;

    /// <summary>
    /// <paramref name="op"/> itself or its ancestor whose parent region is <paramref name="region"/>; null if
    /// <paramref name="op"/> is not nested in <paramref name="region"/>.
    /// </summary>
    public static Operation? FindAncestorInRegion(Operation op, Region region)
    {
        int steps = 0;
        for (Operation? x = op; x is not null && steps < MaxAncestorSteps; x = x.ParentOp, steps++)
        {
            if (ReferenceEquals(x.ParentRegion, region))
            {
                return x;
            }
        }

        return null;
    }

    /// <summary><paramref name="a"/> and <paramref name="b"/> are both directly in blocks of the same region.</summary>
    internal bool ProperlyDominatesInRegion(Operation a, Operation b)
    {
        if (ReferenceEquals(a, b) || a.ParentBlock is not { } aBlock || b.ParentBlock is not { } bBlock)
        {
            return false;
        }

        if (ReferenceEquals(aBlock, bBlock))
        {
            return a.IsBeforeInBlock(b);
        }

        return Dominates(aBlock, bBlock);
    }

    private RegionDominance Get(Region region)
    {
        if (!_regions.TryGetValue(region, out var info))
        {
            info = new RegionDominance(region);
            _regions[region] = info;
        }

        return info;
    }

    /// <summary>Dominator tree of one region's CFG, with pre/post numbers for O(1) queries.</summary>
    private sealed class RegionDominance
    {
        private readonly Dictionary<Block, int> _index = new(ReferenceEqualityComparer.Instance);
        private readonly int[] _pre;
        private readonly int[] _post;
        private readonly bool[] _reachable;

        public int[] Idoms { get; } = [];

        public RegionDominance(Region region)
        {
            var blocks = region.Blocks;
            int n = blocks.Count;
            for (int i = 0; i < n; i++)
            {
                _index.TryAdd(blocks[i], i);
            }

            _pre = new int[n];
            _post = new int[n];
            _reachable = new bool[n];
            if (n == 0)
            {
                return;
            }

            bool graph = n == 1 || (region.ParentOp?.HasTrait(OpTraits.NoTerminator) ?? false);
            var succ = new List<int>[n];
            for (int i = 0; i < n; i++)
            {
                succ[i] = [];
                if (graph || _index[blocks[i]] != i)
                {
                    continue;
                }

                if (blocks[i].Last is { } last)
                {
                    foreach (var s in last.Successors)
                    {
                        if (s.Target is { } t && ReferenceEquals(t.ParentRegion, region) && _index.TryGetValue(t, out int j))
                        {
                            succ[i].Add(j);
                        }
                    }
                }
            }

            Idoms = ComputeIdoms(n, succ, _reachable);
            NumberTree(n, Idoms);
        }

        public bool IsReachable(Block b) => _index.TryGetValue(b, out int i) && _reachable[i];

        public bool Dominates(Block a, Block b)
        {
            if (!_index.TryGetValue(a, out int ia) || !_index.TryGetValue(b, out int ib))
            {
                return false;
            }

            if (ia == ib || !_reachable[ib])
            {
                return true;
            }

            if (!_reachable[ia])
            {
                return false;
            }

            return _pre[ia] <= _pre[ib] && _post[ib] <= _post[ia];
        }

        /// <summary>Cooper, Harvey and Kennedy, "A Simple, Fast Dominance Algorithm". Entry is block 0.</summary>
        private static int[] ComputeIdoms(int n, List<int>[] succ, bool[] reachable)
        {
            // Iterative DFS for post-order.
            var postNum = new int[n];
            var order = new List<int>(n); // post-order
            var nextEdge = new int[n];
            var stack = new Stack<int>();
            stack.Push(0);
            reachable[0] = true;
            while (stack.Count > 0)
            {
                int x = stack.Peek();
                if (nextEdge[x] < succ[x].Count)
                {
                    int y = succ[x][nextEdge[x]++];
                    if (!reachable[y])
                    {
                        reachable[y] = true;
                        stack.Push(y);
                    }
                }
                else
                {
                    stack.Pop();
                    postNum[x] = order.Count;
                    order.Add(x);
                }
            }

            var preds = new List<int>[n];
            for (int i = 0; i < n; i++)
            {
                preds[i] = [];
            }

            // Predecessor lists in region order, only from reachable blocks.
            for (int i = 0; i < n; i++)
            {
                if (reachable[i])
                {
                    foreach (int j in succ[i])
                    {
                        preds[j].Add(i);
                    }
                }
            }

            var idom = new int[n];
            Array.Fill(idom, -1);
            idom[0] = 0;
            bool changed = true;
            while (changed)
            {
                changed = false;
                for (int k = order.Count - 1; k >= 0; k--)
                {
                    int b = order[k];
                    if (b == 0)
                    {
                        continue;
                    }

                    int newIdom = -1;
                    foreach (int p in preds[b])
                    {
                        if (idom[p] == -1)
                        {
                            continue;
                        }

                        newIdom = newIdom == -1 ? p : Intersect(p, newIdom, idom, postNum);
                    }

                    if (newIdom != -1 && idom[b] != newIdom)
                    {
                        idom[b] = newIdom;
                        changed = true;
                    }
                }
            }

            return idom;
        }

        private static int Intersect(int a, int b, int[] idom, int[] postNum)
        {
            while (a != b)
            {
                while (postNum[a] < postNum[b])
                {
                    a = idom[a];
                }

                while (postNum[b] < postNum[a])
                {
                    b = idom[b];
                }
            }

            return a;
        }

        /// <summary>Pre/post numbers of the dominator tree (iterative DFS from the entry block).</summary>
        private void NumberTree(int n, int[] idom)
        {
            var children = new List<int>[n];
            for (int i = 0; i < n; i++)
            {
                children[i] = [];
            }

            for (int i = 1; i < n; i++)
            {
                if (_reachable[i] && idom[i] >= 0)
                {
                    children[idom[i]].Add(i);
                }
            }

            int counter = 0;
            var next = new int[n];
            var stack = new Stack<int>();
            stack.Push(0);
            _pre[0] = counter++;
            while (stack.Count > 0)
            {
                int x = stack.Peek();
                if (next[x] < children[x].Count)
                {
                    int c = children[x][next[x]++];
                    _pre[c] = counter++;
                    stack.Push(c);
                }
                else
                {
                    stack.Pop();
                    _post[x] = counter++;
                }
            }
        }
    }
}
