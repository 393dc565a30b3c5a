namespace Tessera.IR;

/// <summary>An SSA value: an operation result or a block argument. It knows every operand that uses it.</summary>
public abstract class Value
{
    protected Value(Type type) { Type = type; }

    public Type Type { get; set; }

    /// <summary>A preferred printed name (e.g. an ONNX tensor name); the printer keeps names unique.</summary>
    public string? NameHint { get; set; }

    internal OpOperand? FirstUse;

    /// <summary>The uses, most recently added first.</summary>
    public IEnumerable<OpOperand> Uses
    {
        get
        {
            for (var u = FirstUse; u is not null;)
            {
                var next = u.NextUse;
                yield return u;
                u = next;
            }
        }
    }

    public bool HasUses => FirstUse is not null;
    public bool HasOneUse => FirstUse is not null && FirstUse.NextUse is null;

    public IEnumerable<Operation> Users => Uses.Select(u => u.Owner);

    /// <summary>The operation that defines this value, or null for a block argument.</summary>
    public abstract Operation? DefiningOp { get; }

    /// <summary>The block the value is defined in (the defining op's block, or the argument's block).</summary>
    public abstract Block? ParentBlock { get; }

    public abstract Location Location { get; }

    public void ReplaceAllUsesWith(Value replacement)
    {
        if (ReferenceEquals(replacement, this))
        {
            return;
        }

        while (FirstUse is { } u)
        {
            u.Set(replacement);
        }
    }

    public void ReplaceUsesWhere(Value replacement, Func<OpOperand, bool> predicate)
    {
        foreach (var u in Uses.ToList())
        {
            if (predicate(u))
            {
                u.Set(replacement);
            }
        }
    }
}

public sealed class OpResult : Value
{
    internal OpResult(Operation owner, int index, Type type) : base(type)
    {
        Owner = owner;
        Index = index;
    }

    public Operation Owner { get; }
    public int Index { get; }
    public override Operation DefiningOp => Owner;
    public override Block? ParentBlock => Owner.ParentBlock;
    public override Location Location => Owner.Location;
}

public sealed class BlockArgument : Value
{
    internal BlockArgument(Block owner, int index, Type type, Location location) : base(type)
    {
        Owner = owner;
        Index = index;
        _location = location;
    }

    private readonly Location _location;
    public Block Owner { get; }
    public int Index { get; internal set; }
    public override Operation? DefiningOp => null;
    public override Block ParentBlock => Owner;
    public override Location Location => _location;
}

/// <summary>One operand slot of an operation, linked into its value's use list.</summary>
public sealed class OpOperand
{
    internal OpOperand(Operation owner, int index, Value? value)
    {
        Owner = owner;
        Index = index;
        Set(value);
    }

    public Operation Owner { get; }

    /// <summary>Position among the operation's operands (or among its successor's arguments).</summary>
    public int Index { get; internal set; }

    /// <summary>Null only in broken IR (after <see cref="Operation.DropAllReferences"/>); the verifier reports it.</summary>
    public Value? Value { get; private set; }

    internal OpOperand? NextUse;
    internal OpOperand? PrevUse;

    public void Set(Value? value)
    {
        if (ReferenceEquals(Value, value))
        {
            return;
        }

        Unlink();
        Value = value;
        if (value is not null)
        {
            NextUse = value.FirstUse;
            if (NextUse is not null)
            {
                NextUse.PrevUse = this;
            }

            value.FirstUse = this;
        }
    }

    internal void Unlink()
    {
        if (Value is null)
        {
            return;
        }

        if (PrevUse is not null)
        {
            PrevUse.NextUse = NextUse;
        }
        else
        {
            Value.FirstUse = NextUse;
        }

        if (NextUse is not null)
        {
            NextUse.PrevUse = PrevUse;
        }

        PrevUse = NextUse = null;
        Value = null;
    }
}
