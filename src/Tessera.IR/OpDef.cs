namespace Tessera.IR;

[Flags]
public enum OpTraits
{
    None = 0,
    /// <summary>No side effects: unused results make the op dead, and equal ops may be merged.</summary>
    Pure = 1 << 0,
    Commutative = 1 << 1,
    Elementwise = 1 << 2,
    SameOperandsAndResultType = 1 << 3,
    Terminator = 1 << 4,
    /// <summary>Regions may not use values defined outside the op.</summary>
    IsolatedFromAbove = 1 << 5,
    /// <summary>The op's single region holds symbols, looked up by <c>sym_name</c>.</summary>
    SymbolTable = 1 << 6,
    /// <summary>The op defines a symbol named by its <c>sym_name</c> attribute.</summary>
    Symbol = 1 << 7,
    ConstantLike = 1 << 8,
    /// <summary>The op's region blocks need no terminator.</summary>
    NoTerminator = 1 << 9,
    SingleBlock = 1 << 10,
    ReturnLike = 1 << 11,
    SameOperandsAndResultShape = 1 << 12,
    /// <summary>f(f(x)) = f(x).</summary>
    Idempotent = 1 << 13,
    /// <summary>f(f(x)) = x.</summary>
    Involution = 1 << 14,
}

public enum Arity { Single, Optional, Variadic }

public sealed record TypeConstraint(string Description, Func<Type, bool> IsSatisfiedBy);

public sealed record AttrConstraint(string Description, Func<Attribute, bool> IsSatisfiedBy);

public sealed record OperandDef(string Name, TypeConstraint Constraint, Arity Arity);

public sealed record ResultDef(string Name, TypeConstraint Constraint, Arity Arity);

public sealed record AttrDef(string Name, AttrConstraint Constraint, bool Optional);

/// <summary>
/// What a fold produced for one result: an existing value, or a constant attribute that the dialect
/// materializes as a constant op.
/// </summary>
public readonly record struct FoldResult(Value? Value, Attribute? Attribute)
{
    public static implicit operator FoldResult(Value v) => new(v, null);
    public static implicit operator FoldResult(Attribute a) => new(null, a);
}

/// <summary>Folds an op given its operands' constant values (null where an operand is not constant). Returns null when it cannot.</summary>
public delegate IReadOnlyList<FoldResult>? FoldHook(Operation op, IReadOnlyList<Attribute?> constantOperands);

/// <summary>Checks the op beyond its declaration; returns an error message or null.</summary>
public delegate string? VerifyHook(Operation op);

/// <summary>A custom textual form for an op (like MLIR's assembly format); ops without one use the generic form.</summary>
public interface IOpSyntax
{
    void Print(Operation op, Printer printer);
    Operation Parse(OpParser parser, string name, Location location);
}

/// <summary>
/// An op declared as data: name, operands, results, typed attributes, traits and hooks.
/// Concrete ops are a few lines built with <see cref="Define"/>; see dialects/ for examples.
/// </summary>
public sealed class OpDef
{
    private readonly List<OperandDef> _operands = [];
    private readonly List<ResultDef> _results = [];
    private readonly List<AttrDef> _attributes = [];
    private readonly List<RewritePattern> _canonicalizations = [];

    private OpDef(string name, string summary)
    {
        Name = name;
        Summary = summary;
    }

    public string Name { get; }
    public string Summary { get; }
    public string Dialect => Name[..Name.IndexOf('.')];
    public IReadOnlyList<OperandDef> Operands => _operands;
    public IReadOnlyList<ResultDef> Results => _results;
    public IReadOnlyList<AttrDef> Attributes => _attributes;
    public OpTraits Traits { get; private set; }

    /// <summary>Number of regions; null means any number.</summary>
    public int? NumRegions { get; private set; } = 0;

    /// <summary>Number of successors; null means any number.</summary>
    public int? NumSuccessors { get; private set; } = 0;

    public VerifyHook? Verifier { get; private set; }
    public FoldHook? Folder { get; private set; }
    public IReadOnlyList<RewritePattern> Canonicalizations => _canonicalizations;
    public IOpSyntax? Syntax { get; private set; }

    /// <summary>For a parent constraint such as "func.return must be inside func.func".</summary>
    public string? ParentOp { get; private set; }

    public static OpDef Define(string name, string summary = "")
    {
        if (!name.Contains('.'))
        {
            throw new ArgumentException($"op name '{name}' must be 'dialect.op'");
        }

        return new OpDef(name, summary);
    }

    public OpDef Operand(string name, TypeConstraint c) => AddOperand(name, c, Arity.Single);
    public OpDef OptionalOperand(string name, TypeConstraint c) => AddOperand(name, c, Arity.Optional);
    public OpDef VariadicOperand(string name, TypeConstraint c) => AddOperand(name, c, Arity.Variadic);
    public OpDef Result(string name, TypeConstraint c) => AddResult(name, c, Arity.Single);
    public OpDef VariadicResult(string name, TypeConstraint c) => AddResult(name, c, Arity.Variadic);
    public OpDef Attr(string name, AttrConstraint c) { _attributes.Add(new AttrDef(name, c, false)); return this; }
    public OpDef OptionalAttr(string name, AttrConstraint c) { _attributes.Add(new AttrDef(name, c, true)); return this; }
    public OpDef With(OpTraits traits) { Traits |= traits; return this; }
    public OpDef Regions(int? n) { NumRegions = n; return this; }
    public OpDef SuccessorCount(int? n) { NumSuccessors = n; return this; }
    public OpDef Verify(VerifyHook hook) { Verifier = hook; return this; }
    public OpDef Fold(FoldHook hook) { Folder = hook; return this; }
    public OpDef Canonicalize(params RewritePattern[] patterns) { _canonicalizations.AddRange(patterns); return this; }
    public OpDef CustomSyntax(IOpSyntax syntax) { Syntax = syntax; return this; }
    public OpDef HasParent(string parentOp) { ParentOp = parentOp; return this; }

    private OpDef AddOperand(string name, TypeConstraint c, Arity a)
    {
        if (a != Arity.Single && _operands.Any(o => o.Arity != Arity.Single))
        {
            throw new ArgumentException($"{Name}: only one optional or variadic operand group is supported");
        }

        _operands.Add(new OperandDef(name, c, a));
        return this;
    }

    private OpDef AddResult(string name, TypeConstraint c, Arity a)
    {
        if (a != Arity.Single && _results.Any(o => o.Arity != Arity.Single))
        {
            throw new ArgumentException($"{Name}: only one variadic result group is supported");
        }

        _results.Add(new ResultDef(name, c, a));
        return this;
    }

    /// <summary>Indexes of the operands that make up the group <paramref name="name"/>, given the op's actual operand count.</summary>
    public Range OperandRange(string name, int actualCount) => GroupRange(_operands.Select(o => (o.Name, o.Arity)).ToList(), name, actualCount);

    public Range ResultRange(string name, int actualCount) => GroupRange(_results.Select(o => (o.Name, o.Arity)).ToList(), name, actualCount);

    private Range GroupRange(List<(string Name, Arity Arity)> groups, string name, int actual)
    {
        int fixedCount = groups.Count(g => g.Arity == Arity.Single);
        int variadicSize = actual - fixedCount;
        int start = 0;
        foreach (var g in groups)
        {
            int size = g.Arity == Arity.Single ? 1 : variadicSize;
            if (g.Name == name)
            {
                return new Range(start, start + size);
            }

            start += size;
        }

        throw new ArgumentException($"{Name} has no operand or result named '{name}'");
    }

    public override string ToString() => Name;
}

/// <summary>The common type constraints.</summary>
public static class TC
{
    public static readonly TypeConstraint Any = new("any type", _ => true);
    public static readonly TypeConstraint AnyInteger = new("integer", t => t is IntegerType);
    public static readonly TypeConstraint Bool = new("i1", t => t is IntegerType { Width: 1, IsUnsigned: false });
    public static readonly TypeConstraint Index = new("index", t => t is IndexType);
    public static readonly TypeConstraint AnyFloat = new("float", t => t is FloatType);
    public static readonly TypeConstraint IntOrIndex = new("integer or index", t => t is IntegerType or IndexType);
    public static readonly TypeConstraint AnyTensor = new("tensor", t => t is TensorType);
    public static readonly TypeConstraint AnyMemRef = new("memref", t => t is MemRefType);
    public static readonly TypeConstraint AnyShaped = new("tensor or memref", t => t is ShapedType);

    /// <summary>A float, or a tensor of floats.</summary>
    public static readonly TypeConstraint FloatLike = new("float or tensor of float", t => Element(t) is FloatType);

    /// <summary>An integer or index, or a tensor of them.</summary>
    public static readonly TypeConstraint IntLike = new("integer, index or tensor of them", t => Element(t) is IntegerType or IndexType);

    public static readonly TypeConstraint BoolLike = new("i1 or tensor of i1", t => Element(t) is IntegerType { Width: 1 });

    public static Type Element(Type t) => t is ShapedType s ? s.ElementType : t;
}

/// <summary>The common attribute constraints.</summary>
public static class AC
{
    public static readonly AttrConstraint Any = new("any attribute", _ => true);
    public static readonly AttrConstraint Int = new("integer", a => a is IntegerAttr);
    public static readonly AttrConstraint Float = new("float", a => a is FloatAttr);
    public static readonly AttrConstraint Bool = new("bool", a => a is BoolAttr);
    public static readonly AttrConstraint Unit = new("unit", a => a is UnitAttr);
    public static readonly AttrConstraint String = new("string", a => a is StringAttr);
    public static readonly AttrConstraint Array = new("array", a => a is ArrayAttr);
    public static readonly AttrConstraint Dictionary = new("dictionary", a => a is DictionaryAttr);
    public static readonly AttrConstraint TypeAttr = new("type", a => a is IR.TypeAttr);
    public static readonly AttrConstraint FunctionType = new("function type", a => a is IR.TypeAttr { Value: IR.FunctionType });
    public static readonly AttrConstraint SymbolRef = new("symbol reference", a => a is SymbolRefAttr);
    public static readonly AttrConstraint FlatSymbolRef = new("flat symbol reference", a => a is SymbolRefAttr { Nested.Count: 0 });
    public static readonly AttrConstraint Typed = new("typed attribute", a => a is ITypedAttribute);
    public static readonly AttrConstraint Dense = new("dense elements", a => a is DenseElementsAttr or ElidedElementsAttr);
    public static readonly AttrConstraint IntArray = new("array of integers", a => a is ArrayAttr arr && arr.Elements.All(e => e is IntegerAttr));

    public static AttrConstraint OneOf(params string[] values) =>
        new("one of " + string.Join(", ", values.Select(v => $"\"{v}\"")), a => a is StringAttr s && values.Contains(s.Value));
}
