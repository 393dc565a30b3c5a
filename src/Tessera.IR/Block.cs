namespace Tessera.IR;

/// <summary>A list of operations with arguments; the last op of a block in a CFG region is its terminator.</summary>
public sealed class Block
{
    private readonly List<BlockArgument> _arguments = [];
    private bool _orderValid;

    public IReadOnlyList<BlockArgument> Arguments => _arguments;
    public Region? ParentRegion { get; internal set; }
    public Operation? ParentOp => ParentRegion?.ParentOp;

    public Operation? First { get; private set; }
    public Operation? Last { get; private set; }
    public int Count { get; private set; }
    public bool IsEmpty => First is null;

    public IEnumerable<Operation> Operations
    {
        get
        {
            for (var op = First; op is not null;)
            {
                var next = op.NextInBlock;
                yield return op;
                op = next;
            }
        }
    }

    public Operation? Terminator => Last is { } l && l.HasTrait(OpTraits.Terminator) ? l : null;

    public BlockArgument AddArgument(Type type, Location? location = null)
    {
        var a = new BlockArgument(this, _arguments.Count, type, location ?? Location.Unknown);
        _arguments.Add(a);
        return a;
    }

    public void EraseArgument(int index)
    {
        if (_arguments[index].HasUses)
        {
            throw new InvalidOperationException($"block argument #{index} still has uses");
        }

        _arguments.RemoveAt(index);
        for (int i = index; i < _arguments.Count; i++)
        {
            _arguments[i].Index = i;
        }
    }

    public void Append(Operation op) => InsertAfter(Last, op);
    public void Prepend(Operation op) => InsertBefore(First, op);

    /// <summary>Inserts before <paramref name="anchor"/>; a null anchor appends.</summary>
    public void InsertBefore(Operation? anchor, Operation op)
    {
        if (anchor is null)
        {
            InsertAfter(Last, op);
            return;
        }

        InsertAfter(anchor.PrevInBlock, op, anchor);
    }

    /// <summary>Inserts after <paramref name="anchor"/>; a null anchor prepends.</summary>
    public void InsertAfter(Operation? anchor, Operation op) => InsertAfter(anchor, op, anchor is null ? First : anchor.NextInBlock);

    private void InsertAfter(Operation? prev, Operation op, Operation? next)
    {
        if (op.ParentBlock is not null)
        {
            throw new InvalidOperationException($"'{op.Name}' is already in a block");
        }

        op.ParentBlock = this;
        op.PrevInBlock = prev;
        op.NextInBlock = next;
        if (prev is null)
        {
            First = op;
        }
        else
        {
            prev.NextInBlock = op;
        }

        if (next is null)
        {
            Last = op;
        }
        else
        {
            next.PrevInBlock = op;
        }

        Count++;
        _orderValid = false;
    }

    internal void Unlink(Operation op)
    {
        if (op.PrevInBlock is null)
        {
            First = op.NextInBlock;
        }
        else
        {
            op.PrevInBlock.NextInBlock = op.NextInBlock;
        }

        if (op.NextInBlock is null)
        {
            Last = op.PrevInBlock;
        }
        else
        {
            op.NextInBlock.PrevInBlock = op.PrevInBlock;
        }

        op.PrevInBlock = op.NextInBlock = null;
        op.ParentBlock = null;
        Count--;
    }

    internal void EnsureOrder()
    {
        if (_orderValid)
        {
            return;
        }

        int i = 0;
        for (var op = First; op is not null; op = op.NextInBlock)
        {
            op.OrderIndex = i++;
        }

        _orderValid = true;
    }

    /// <summary>The blocks this block's terminator can branch to.</summary>
    public IEnumerable<Block> SuccessorBlocks => Last is null ? [] : Last.Successors.Select(s => s.Target);

    /// <summary>Moves every op from <paramref name="from"/> onward into <paramref name="dest"/> (at its end).</summary>
    public void MoveOpsTo(Operation? from, Block dest)
    {
        for (var op = from; op is not null;)
        {
            var next = op.NextInBlock;
            op.Remove();
            dest.Append(op);
            op = next;
        }
    }

    public bool IsEntryBlock => ParentRegion is not null && ParentRegion.Blocks.Count > 0 && ReferenceEquals(ParentRegion.Blocks[0], this);

    /// <summary>Blocks in this block's region that branch to it, in region order.</summary>
    public IEnumerable<Block> Predecessors => ParentRegion is null ? [] :
        ParentRegion.Blocks.Where(b => b.SuccessorBlocks.Any(s => ReferenceEquals(s, this)));
}

/// <summary>A list of blocks owned by an operation.</summary>
public sealed class Region
{
    private readonly List<Block> _blocks = [];
    public IReadOnlyList<Block> Blocks => _blocks;
    public Operation? ParentOp { get; internal set; }
    public bool IsEmpty => _blocks.Count == 0;
    public Block? EntryBlock => _blocks.Count > 0 ? _blocks[0] : null;

    public Block AddBlock(Block? block = null)
    {
        block ??= new Block();
        block.ParentRegion = this;
        _blocks.Add(block);
        return block;
    }

    public void InsertBlock(int index, Block block)
    {
        block.ParentRegion = this;
        _blocks.Insert(index, block);
    }

    public void RemoveBlock(Block block)
    {
        _blocks.Remove(block);
        block.ParentRegion = null;
    }

    public int IndexOf(Block b) => _blocks.IndexOf(b);

    /// <summary>Ops directly in this region's blocks, in order.</summary>
    public IEnumerable<Operation> Operations => _blocks.SelectMany(b => b.Operations);

    /// <summary>True if <paramref name="op"/> is nested (at any depth) in this region.</summary>
    public bool IsAncestorOf(Operation op)
    {
        for (var r = op.ParentRegion; r is not null; r = r.ParentOp?.ParentRegion)
        {
            if (ReferenceEquals(r, this))
            {
                return true;
            }
        }

        return false;
    }
}

internal static class IRCloner
{
    /// <summary>Clones without recursion: each region is copied through an explicit work stack.</summary>
    public static Operation Clone(Context ctx, Operation root, IRMapping map)
    {
        var rootClone = CloneShallow(ctx, root, map);
        var work = new Stack<(Operation Src, Operation Dst)>();
        work.Push((root, rootClone));
        var pendingSuccessors = new List<(Operation Src, Operation Dst)>();
        while (work.Count > 0)
        {
            var (src, dst) = work.Pop();
            pendingSuccessors.Add((src, dst));
            for (int r = 0; r < src.Regions.Count; r++)
            {
                var dstRegion = dst.Regions[r];
                foreach (var b in src.Regions[r].Blocks)
                {
                    var nb = dstRegion.AddBlock();
                    map.Map(b, nb);
                    foreach (var a in b.Arguments)
                    {
                        var na = nb.AddArgument(a.Type, a.Location);
                        na.NameHint = a.NameHint;
                        map.Map(a, na);
                    }
                }

                // Operands may refer to values defined in later blocks, so map results first, then operands.
                var pairs = new List<(Operation, Operation)>();
                foreach (var b in src.Regions[r].Blocks)
                {
                    var nb = map.Lookup(b);
                    foreach (var op in b.Operations)
                    {
                        var c = CloneShallow(ctx, op, map, withOperands: false);
                        nb.Append(c);
                        pairs.Add((op, c));
                    }
                }

                foreach (var (s, d) in pairs)
                {
                    d.SetOperands(s.Operands.Select(v => map.Lookup(v!)));
                    work.Push((s, d));
                }
            }
        }

        foreach (var (src, dst) in pendingSuccessors)
        {
            foreach (var s in src.Successors)
            {
                dst.AddSuccessor(map.Lookup(s.Target), s.ArgumentValues.Select(v => map.Lookup(v!)));
            }
        }

        return rootClone;
    }

    private static Operation CloneShallow(Context ctx, Operation op, IRMapping map, bool withOperands = true)
    {
        var s = new OperationState(op.Name, op.Location) { NumRegions = op.Regions.Count };
        if (withOperands)
        {
            s.Operands.AddRange(op.Operands.Select(v => map.Lookup(v!)));
        }

        s.ResultTypes.AddRange(op.Results.Select(r => r.Type));
        s.Attributes.AddRange(op.Attributes);
        var c = Operation.Create(ctx, s);
        for (int i = 0; i < op.NumResults; i++)
        {
            c.Result(i).NameHint = op.Result(i).NameHint;
            map.Map(op.Result(i), c.Result(i));
        }

        return c;
    }
}
