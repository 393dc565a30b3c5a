namespace Tessera.Passes.Transforms;

/// <summary>
/// Common subexpression elimination over dominance scopes.
/// Why: canonicalization and lowering both produce duplicate pure computations (the same constant, the same
/// multiply); merging them shrinks the IR and exposes more folding. An op may only be replaced by an equal op
/// that dominates it, so the walk follows the dominator tree of each region with a scoped hash table.
/// Everything here is iterative, and the only things iterated are lists in IR order, so output is deterministic.
/// </summary>
public sealed class CsePass : Pass
{
    public override string Flag => "cse";

    public override string Summary => "eliminates common subexpressions of pure ops, respecting dominance";

    public override PassResult Run(Operation op, PassContext context)
    {
        int erased = new CseRun().Run(op);
        Count("num-cse'd", erased);
        return erased > 0 ? PassResult.Changed : PassResult.Unchanged;
    }

    /// <summary>True if <paramref name="op"/> may be merged with an equal op: pure, region-free, not a terminator, no opaque data.</summary>
    public static bool IsCseCandidate(Operation op) =>
        op.HasTrait(OpTraits.Pure) && op.Regions.Count == 0 && !op.HasTrait(OpTraits.Terminator) && op.Successors.Count == 0 &&
        op.OpOperands.All(o => o.Value is not null) && !op.Attributes.Any(a => a.Value is ElidedElementsAttr);

    /// <summary>One hash-table scope: entries visible to a child are those inserted before the child was opened.</summary>
    private sealed class Scope(Scope? parent, long cutoffInParent)
    {
        public readonly Dictionary<OpKey, (Operation Op, long Seq)> Entries = [];
        public Scope? Parent { get; } = parent;
        public long CutoffInParent { get; } = cutoffInParent;
    }

    /// <summary>Name, operand value ids, attributes in key order and result types; attributes compare structurally.</summary>
    private sealed class OpKey(string name, int[] operands, KeyValuePair<string, Attribute>[] attributes, Type[] resultTypes) : IEquatable<OpKey>
    {
        private readonly int _hash = HashCode.Combine(name, operands.Aggregate(17, HashCode.Combine),
            attributes.Aggregate(17, (h, a) => HashCode.Combine(h, a.Key, a.Value)), resultTypes.Aggregate(17, (h, t) => HashCode.Combine(h, t)));

        public bool Equals(OpKey? o) =>
            o is not null && o._hash == _hash && o.Name == Name && o.Operands.AsSpan().SequenceEqual(Operands) &&
            o.Attributes.SequenceEqual(Attributes) && o.ResultTypes.SequenceEqual(ResultTypes);

        public string Name { get; } = name;
        public int[] Operands { get; } = operands;
        public KeyValuePair<string, Attribute>[] Attributes { get; } = attributes;
        public Type[] ResultTypes { get; } = resultTypes;
        public override bool Equals(object? obj) => Equals(obj as OpKey);
        public override int GetHashCode() => _hash;
    }

    private sealed class CseRun
    {
        private readonly Dictionary<Value, int> _valueIds = new(ReferenceEqualityComparer.Instance);
        private DominanceInfo _dominance = null!;
        private long _seq;
        private int _erased;

        private int Id(Value v)
        {
            if (!_valueIds.TryGetValue(v, out int id))
            {
                _valueIds[v] = id = _valueIds.Count;
            }

            return id;
        }

        public int Run(Operation root)
        {
            _dominance = new DominanceInfo(root);
            // Work items are regions with the scope they inherit; nested regions are queued with a cutoff so they
            // only see values defined before their parent op, whatever order the queue is drained in.
            var regions = new Stack<(Region Region, Scope? Scope)>();
            for (int r = root.Regions.Count - 1; r >= 0; r--)
            {
                regions.Push((root.Regions[r], null));
            }

            while (regions.Count > 0)
            {
                var (region, inherited) = regions.Pop();
                var nested = new List<(Region, Scope?)>();
                ProcessRegion(region, inherited, nested);
                for (int i = nested.Count - 1; i >= 0; i--)
                {
                    regions.Push(nested[i]);
                }
            }

            return _erased;
        }

        private void ProcessRegion(Region region, Scope? inherited, List<(Region, Scope?)> nested)
        {
            var blocks = region.Blocks;
            if (blocks.Count == 0)
            {
                return;
            }

            var idom = _dominance.ImmediateDominators(region);
            var children = Enumerable.Range(0, blocks.Count).Select(_ => new List<int>()).ToList();
            for (int b = 1; b < blocks.Count; b++)
            {
                if (idom[b] >= 0)
                {
                    children[idom[b]].Add(b);
                }
            }

            // Dominator-tree pre-order; a child block sees all of its dominator's entries.
            var stack = new Stack<(int Block, Scope Scope)>();
            stack.Push((0, new Scope(inherited, _seq)));
            while (stack.Count > 0)
            {
                var (b, scope) = stack.Pop();
                ProcessBlock(blocks[b], scope, nested);
                for (int i = children[b].Count - 1; i >= 0; i--)
                {
                    stack.Push((children[b][i], new Scope(scope, long.MaxValue)));
                }
            }

            // Unreachable blocks are dominated by nothing useful: each gets a scope of its own.
            for (int b = 1; b < blocks.Count; b++)
            {
                if (idom[b] < 0)
                {
                    ProcessBlock(blocks[b], new Scope(inherited, _seq), nested);
                }
            }
        }

        private void ProcessBlock(Block block, Scope scope, List<(Region, Scope?)> nested)
        {
            foreach (var a in block.Arguments)
            {
                Id(a);
            }

            foreach (var op in block.Operations)
            {
                if (op.Regions.Count > 0)
                {
                    var inner = op.HasTrait(OpTraits.IsolatedFromAbove) ? null : new Scope(scope, _seq);
                    foreach (var r in op.Regions)
                    {
                        nested.Add((r, inner));
                    }
                }

                if (!IsCseCandidate(op))
                {
                    continue;
                }

                var key = KeyOf(op);
                if (Lookup(scope, key) is { } existing)
                {
                    for (int i = 0; i < op.NumResults; i++)
                    {
                        op.Result(i).ReplaceAllUsesWith(existing.Result(i));
                    }

                    op.Erase();
                    _erased++;
                    continue;
                }

                scope.Entries[key] = (op, _seq++);
                foreach (var r in op.Results)
                {
                    Id(r);
                }
            }
        }

        private static Operation? Lookup(Scope? scope, OpKey key)
        {
            for (long limit = long.MaxValue; scope is not null; limit = scope.CutoffInParent, scope = scope.Parent)
            {
                if (scope.Entries.TryGetValue(key, out var e) && e.Seq < limit)
                {
                    return e.Op;
                }
            }

            return null;
        }

        private OpKey KeyOf(Operation op)
        {
            var operands = op.Operands.Select(v => Id(v!)).ToArray();
            if (op.HasTrait(OpTraits.Commutative) && operands.Length == 2 && operands[0] > operands[1])
            {
                (operands[0], operands[1]) = (operands[1], operands[0]);
            }

            return new OpKey(op.Name, operands, op.Attributes.ToArray(), op.Results.Select(r => r.Type).ToArray());
        }
    }
}
