namespace Tessera.IR;

/// <summary>A dialect: a namespace of ops, plus how to materialize a folded constant as an op.</summary>
public abstract class Dialect
{
    public abstract string Name { get; }
    public abstract IEnumerable<OpDef> Ops { get; }

    /// <summary>Builds a constant op producing <paramref name="value"/> of <paramref name="type"/>, or null if this dialect cannot.</summary>
    public virtual Operation? MaterializeConstant(OpBuilder builder, Attribute value, Type type, Location location) => null;
}

/// <summary>Holds the registered dialects and ops. Lookups go through ordinal-keyed dictionaries; listings are sorted.</summary>
public sealed class Context
{
    private readonly Dictionary<string, OpDef> _ops = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dialect> _dialects = new(StringComparer.Ordinal);

    /// <summary>Whether ops of unknown name may be parsed and built (generic form only).</summary>
    public bool AllowUnregistered { get; set; }

    public void Register(Dialect dialect)
    {
        if (_dialects.ContainsKey(dialect.Name))
        {
            return;
        }

        _dialects[dialect.Name] = dialect;
        foreach (var op in dialect.Ops)
        {
            if (op.Dialect != dialect.Name)
            {
                throw new ArgumentException($"op {op.Name} does not belong to dialect {dialect.Name}");
            }

            if (!_ops.TryAdd(op.Name, op))
            {
                throw new ArgumentException($"op {op.Name} is registered twice");
            }
        }
    }

    public OpDef? Lookup(string name) => _ops.GetValueOrDefault(name);
    public Dialect? GetDialect(string name) => _dialects.GetValueOrDefault(name);
    public IEnumerable<OpDef> RegisteredOps => _ops.Values.OrderBy(o => o.Name, StringComparer.Ordinal);
    public IEnumerable<Dialect> Dialects => _dialects.Values.OrderBy(d => d.Name, StringComparer.Ordinal);
}

/// <summary>Creates operations at an insertion point.</summary>
public class OpBuilder(Context context)
{
    public Context Context { get; } = context;
    public Block? Block { get; private set; }

    /// <summary>Ops are inserted before this op; null means at the end of <see cref="Block"/>.</summary>
    public Operation? Before { get; private set; }

    public void SetInsertionPointToEnd(Block block) { Block = block; Before = null; }
    public void SetInsertionPointToStart(Block block) { Block = block; Before = block.First; }
    public void SetInsertionPoint(Operation op) { Block = op.ParentBlock; Before = op; }
    public void SetInsertionPointAfter(Operation op) { Block = op.ParentBlock; Before = op.NextInBlock; }

    public void ClearInsertionPoint() { Block = null; Before = null; }

    public (Block? Block, Operation? Before) SaveInsertionPoint() => (Block, Before);
    public void RestoreInsertionPoint((Block? Block, Operation? Before) ip) { Block = ip.Block; Before = ip.Before; }

    public Operation Create(OperationState state)
    {
        if (Context.Lookup(state.Name) is null && !Context.AllowUnregistered)
        {
            throw new InvalidOperationException($"op '{state.Name}' is not registered");
        }

        return Insert(Operation.Create(Context, state));
    }

    public Operation Create(string name, Location loc, IEnumerable<Value> operands, IEnumerable<Type> resultTypes,
        IEnumerable<KeyValuePair<string, Attribute>>? attributes = null, int regions = 0)
    {
        var s = new OperationState(name, loc) { NumRegions = regions };
        s.Operands.AddRange(operands);
        s.ResultTypes.AddRange(resultTypes);
        if (attributes is not null)
        {
            s.Attributes.AddRange(attributes);
        }

        return Create(s);
    }

    public Operation Create(OpDef def, Location loc, IEnumerable<Value> operands, IEnumerable<Type> resultTypes,
        IEnumerable<KeyValuePair<string, Attribute>>? attributes = null, int regions = 0) =>
        Create(def.Name, loc, operands, resultTypes, attributes, regions);

    public virtual Operation Insert(Operation op)
    {
        if (Block is not null)
        {
            Block.InsertBefore(Before, op);
        }

        return op;
    }

    public Operation Clone(Operation op, IRMapping? map = null) => Insert(op.Clone(Context, map ?? new IRMapping()));
}
