namespace Tessera.IR;

/// <summary>A branch target of a terminator, with the values passed to the target's arguments.</summary>
public sealed class Successor
{
    internal Successor(Block target) { Target = target; }
    public Block Target { get; set; }
    internal readonly List<OpOperand> ArgumentOperands = [];
    public IReadOnlyList<OpOperand> Arguments => ArgumentOperands;
    public IEnumerable<Value?> ArgumentValues => ArgumentOperands.Select(o => o.Value);
}

/// <summary>
/// The one generic operation class: a name, operands, results, attributes, regions, successors and a location.
/// What an op means comes from its <see cref="OpDef"/>, looked up by name in the <see cref="Context"/>.
/// </summary>
public sealed class Operation
{
    private readonly List<OpOperand> _operands = [];
    private readonly List<OpResult> _results = [];
    private readonly List<Region> _regions = [];
    private readonly List<Successor> _successors = [];
    private readonly SortedDictionary<string, Attribute> _attributes = new(StringComparer.Ordinal);

    internal Operation(string name, OpDef? def, Location location)
    {
        Name = name;
        Def = def;
        Location = location;
    }

    public string Name { get; }

    /// <summary>Null for an unregistered op (allowed only with <see cref="Context.AllowUnregistered"/>).</summary>
    public OpDef? Def { get; }

    public string Dialect => Name.Contains('.') ? Name[..Name.IndexOf('.')] : "";

    public Location Location { get; set; }

    public IReadOnlyList<OpOperand> OpOperands => _operands;
    public IEnumerable<Value?> Operands => _operands.Select(o => o.Value);
    public Value Operand(int i) => _operands[i].Value ?? throw new InvalidOperationException($"operand {i} of {Name} is null");
    public int NumOperands => _operands.Count;

    public IReadOnlyList<OpResult> Results => _results;
    public OpResult Result(int i = 0) => _results[i];
    public int NumResults => _results.Count;

    public IReadOnlyList<Region> Regions => _regions;
    public IReadOnlyList<Successor> Successors => _successors;

    /// <summary>Attributes, iterated in key order.</summary>
    public IEnumerable<KeyValuePair<string, Attribute>> Attributes => _attributes;
    public Attribute? GetAttr(string name) => _attributes.GetValueOrDefault(name);
    public T? GetAttr<T>(string name) where T : Attribute => _attributes.GetValueOrDefault(name) as T;
    public bool HasAttr(string name) => _attributes.ContainsKey(name);
    public void SetAttr(string name, Attribute value) => _attributes[name] = value;
    public bool RemoveAttr(string name) => _attributes.Remove(name);

    public bool HasTrait(OpTraits t) => Def is not null && (Def.Traits & t) == t;

    // Intrusive list links inside the parent block.
    public Block? ParentBlock { get; internal set; }
    public Operation? PrevInBlock { get; internal set; }
    public Operation? NextInBlock { get; internal set; }
    internal int OrderIndex = -1;

    public Region? ParentRegion => ParentBlock?.ParentRegion;
    public Operation? ParentOp => ParentBlock?.ParentRegion?.ParentOp;
    public bool IsErased { get; private set; }

    /// <summary>Creates a detached operation. Prefer <see cref="OpBuilder"/>, which also inserts it.</summary>
    public static Operation Create(Context ctx, OperationState s)
    {
        var def = ctx.Lookup(s.Name);
        var op = new Operation(s.Name, def, s.Location);
        foreach (var v in s.Operands)
        {
            op._operands.Add(new OpOperand(op, op._operands.Count, v));
        }

        foreach (var t in s.ResultTypes)
        {
            op._results.Add(new OpResult(op, op._results.Count, t));
        }

        foreach (var (k, v) in s.Attributes)
        {
            op._attributes[k] = v;
        }

        foreach (var r in s.Regions)
        {
            op.AddRegion(r);
        }

        for (int i = op._regions.Count; i < s.NumRegions; i++)
        {
            op.AddRegion(new Region());
        }

        foreach (var (block, args) in s.Successors)
        {
            op.AddSuccessor(block, args);
        }

        return op;
    }

    public Region AddRegion(Region? region = null)
    {
        region ??= new Region();
        if (region.ParentOp is not null)
        {
            throw new InvalidOperationException("region already belongs to an operation");
        }

        region.ParentOp = this;
        _regions.Add(region);
        return region;
    }

    public Successor AddSuccessor(Block target, IEnumerable<Value> args)
    {
        var s = new Successor(target);
        foreach (var a in args)
        {
            s.ArgumentOperands.Add(new OpOperand(this, s.ArgumentOperands.Count, a));
        }

        _successors.Add(s);
        return s;
    }

    public void SetOperand(int i, Value v) => _operands[i].Set(v);

    public void SetOperands(IEnumerable<Value> values)
    {
        foreach (var o in _operands)
        {
            o.Unlink();
        }

        _operands.Clear();
        foreach (var v in values)
        {
            _operands.Add(new OpOperand(this, _operands.Count, v));
        }
    }

    public void InsertOperand(int index, Value v)
    {
        _operands.Insert(index, new OpOperand(this, index, v));
        for (int i = index + 1; i < _operands.Count; i++)
        {
            _operands[i].Index = i;
        }
    }

    public void EraseOperand(int index)
    {
        _operands[index].Unlink();
        _operands.RemoveAt(index);
        for (int i = index; i < _operands.Count; i++)
        {
            _operands[i].Index = i;
        }
    }

    public void RemoveSuccessorArgument(int successor, int index)
    {
        var args = _successors[successor].ArgumentOperands;
        args[index].Unlink();
        args.RemoveAt(index);
        for (int i = index; i < args.Count; i++)
        {
            args[i].Index = i;
        }
    }

    /// <summary>Unlinks every operand (here and in nested regions) from its value's use list.</summary>
    public void DropAllReferences()
    {
        foreach (var op in Walk())
        {
            foreach (var o in op._operands)
            {
                o.Unlink();
            }

            foreach (var s in op._successors)
            {
                foreach (var a in s.ArgumentOperands)
                {
                    a.Unlink();
                }
            }
        }
    }

    /// <summary>Removes the op from its block without destroying it.</summary>
    public void Remove()
    {
        ParentBlock?.Unlink(this);
    }

    /// <summary>Removes and destroys the op. Its results must be unused, except by ops nested inside it.</summary>
    public void Erase()
    {
        DropAllReferences();
        foreach (var r in _results)
        {
            if (r.HasUses)
            {
                throw new InvalidOperationException($"cannot erase '{Name}': result #{r.Index} still has uses");
            }
        }

        Remove();
        foreach (var op in Walk())
        {
            op.IsErased = true;
        }
    }

    public void MoveBefore(Operation other)
    {
        Remove();
        other.ParentBlock!.InsertBefore(other, this);
    }

    public void MoveAfter(Operation other)
    {
        Remove();
        other.ParentBlock!.InsertAfter(other, this);
    }

    /// <summary>True if this op comes before <paramref name="other"/> in the same block.</summary>
    public bool IsBeforeInBlock(Operation other)
    {
        if (ParentBlock is null || !ReferenceEquals(ParentBlock, other.ParentBlock))
        {
            throw new InvalidOperationException("operations are not in the same block");
        }

        ParentBlock.EnsureOrder();
        return OrderIndex < other.OrderIndex;
    }

    /// <summary>True if <paramref name="other"/> is this op or nested anywhere inside it.</summary>
    public bool IsAncestorOf(Operation other)
    {
        for (Operation? p = other; p is not null; p = p.ParentOp)
        {
            if (ReferenceEquals(p, this))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Pre-order walk of this op and everything nested in it, without recursion.</summary>
    public IEnumerable<Operation> Walk()
    {
        var stack = new Stack<Operation>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var op = stack.Pop();
            yield return op;
            for (int r = op._regions.Count - 1; r >= 0; r--)
            {
                var blocks = op._regions[r].Blocks;
                for (int b = blocks.Count - 1; b >= 0; b--)
                {
                    for (var child = blocks[b].Last; child is not null; child = child.PrevInBlock)
                    {
                        stack.Push(child);
                    }
                }
            }
        }
    }

    /// <summary>Post-order walk (children before parents), without recursion.</summary>
    public IEnumerable<Operation> WalkPostOrder()
    {
        var depthFirst = new List<Operation>();
        var stack = new Stack<(Operation Op, bool Expanded)>();
        stack.Push((this, false));
        while (stack.Count > 0)
        {
            var (op, expanded) = stack.Pop();
            if (expanded)
            {
                depthFirst.Add(op);
                continue;
            }

            stack.Push((op, true));
            for (int r = op._regions.Count - 1; r >= 0; r--)
            {
                var blocks = op._regions[r].Blocks;
                for (int b = blocks.Count - 1; b >= 0; b--)
                {
                    for (var child = blocks[b].Last; child is not null; child = child.PrevInBlock)
                    {
                        stack.Push((child, false));
                    }
                }
            }
        }

        return depthFirst;
    }

    /// <summary>Deep copy. Operands that refer to values mapped in <paramref name="map"/> are remapped; new values are added to it.</summary>
    public Operation Clone(Context ctx, IRMapping map) => IRCloner.Clone(ctx, this, map);

    public override string ToString() => Printer.PrintOp(this, PrintOptions.GenericWithLocations);
}

/// <summary>Everything needed to create an operation.</summary>
public sealed class OperationState(string name, Location location)
{
    public string Name { get; } = name;
    public Location Location { get; set; } = location;
    public List<Value> Operands { get; } = [];
    public List<Type> ResultTypes { get; } = [];
    public List<KeyValuePair<string, Attribute>> Attributes { get; } = [];
    public List<Region> Regions { get; } = [];
    public int NumRegions { get; set; }
    public List<(Block Block, List<Value> Args)> Successors { get; } = [];

    public OperationState AddOperands(params IEnumerable<Value> v) { Operands.AddRange(v); return this; }
    public OperationState AddTypes(params IEnumerable<Type> t) { ResultTypes.AddRange(t); return this; }
    public OperationState AddAttr(string k, Attribute v) { Attributes.Add(new(k, v)); return this; }
}

/// <summary>Maps old values and blocks to new ones while cloning or inlining.</summary>
public sealed class IRMapping
{
    private readonly Dictionary<Value, Value> _values = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Block, Block> _blocks = new(ReferenceEqualityComparer.Instance);
    public void Map(Value from, Value to) => _values[from] = to;
    public void Map(Block from, Block to) => _blocks[from] = to;
    public Value Lookup(Value v) => _values.TryGetValue(v, out var r) ? r : v;
    public Block Lookup(Block b) => _blocks.TryGetValue(b, out var r) ? r : b;
    public bool Contains(Value v) => _values.ContainsKey(v);
}
