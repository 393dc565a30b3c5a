namespace Tessera.IR;

/// <summary>
/// Declarative match trees with named captures, in the spirit of nncase's and tinygrad's rule tables:
/// <c>Pat.Op("arith.addi", Pat.Any("x"), Pat.Constant("c", IsZero))</c> matches <c>x + 0</c> and binds x and c.
/// </summary>
public abstract class Pat
{
    public abstract bool Match(Value v, PatternMatch m);

    /// <summary>Any value, captured as <paramref name="name"/>. Repeating a name requires the same value (x - x).</summary>
    public static Pat Any(string? name = null) => new AnyPat(name);

    /// <summary>A value defined by an op named <paramref name="opName"/> whose operands match <paramref name="operands"/>.</summary>
    public static OpPat Op(string opName, params Pat[] operands) => new(opName, operands, null, commutative: false);

    /// <summary>Like <see cref="Op"/>, also trying the two operands swapped.</summary>
    public static OpPat Commutative(string opName, Pat lhs, Pat rhs) => new(opName, [lhs, rhs], null, commutative: true);

    /// <summary>A value produced by a ConstantLike op whose <c>value</c> attribute satisfies <paramref name="predicate"/>; the attribute is captured.</summary>
    public static Pat Constant(string? name = null, Func<Attribute, bool>? predicate = null) => new ConstPat(name, predicate);

    private sealed class AnyPat(string? name) : Pat
    {
        public override bool Match(Value v, PatternMatch m) => name is null || m.Bind(name, v);
    }

    private sealed class ConstPat(string? name, Func<Attribute, bool>? predicate) : Pat
    {
        public override bool Match(Value v, PatternMatch m)
        {
            if (v.DefiningOp is not { } def || !def.HasTrait(OpTraits.ConstantLike) || def.GetAttr("value") is not { } attr)
            {
                return false;
            }

            if (predicate is not null && !predicate(attr))
            {
                return false;
            }

            if (name is not null)
            {
                m.Attributes[name] = attr;
                return m.Bind(name, v);
            }

            return true;
        }
    }
}

public sealed class OpPat(string opName, Pat[] operands, string? captureName, bool commutative) : Pat
{
    /// <summary>Captures the matched op under <paramref name="name"/>.</summary>
    public OpPat As(string name) => new(opName, operands, name, commutative);

    public string OpName => opName;

    public bool MatchOp(Operation op, PatternMatch m)
    {
        if (op.Name != opName || op.NumOperands != operands.Length || op.OpOperands.Any(o => o.Value is null))
        {
            return false;
        }

        var snapshot = m.Save();
        if (MatchOperands(op, m, swapped: false))
        {
            return Capture(op, m);
        }

        m.Restore(snapshot);
        if (commutative && MatchOperands(op, m, swapped: true))
        {
            return Capture(op, m);
        }

        m.Restore(snapshot);
        return false;
    }

    private bool Capture(Operation op, PatternMatch m)
    {
        if (captureName is not null)
        {
            m.Ops[captureName] = op;
        }

        return true;
    }

    private bool MatchOperands(Operation op, PatternMatch m, bool swapped)
    {
        for (int i = 0; i < operands.Length; i++)
        {
            int j = swapped ? operands.Length - 1 - i : i;
            if (!operands[i].Match(op.Operand(j), m))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Match(Value v, PatternMatch m) => v.DefiningOp is { } d && MatchOp(d, m);
}

/// <summary>What a <see cref="Pat"/> bound: values, ops and constant attributes, by capture name.</summary>
public sealed class PatternMatch
{
    public Dictionary<string, Value> Values { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Operation> Ops { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Attribute> Attributes { get; } = new(StringComparer.Ordinal);
    public Operation Root { get; internal set; } = null!;

    public Value this[string name] => Values[name];
    public Operation Op(string name) => Ops[name];
    public Attribute Attr(string name) => Attributes[name];

    internal bool Bind(string name, Value v)
    {
        if (Values.TryGetValue(name, out var existing))
        {
            return ReferenceEquals(existing, v);
        }

        Values[name] = v;
        return true;
    }

    internal (string[] V, string[] O, string[] A) Save() => (Values.Keys.ToArray(), Ops.Keys.ToArray(), Attributes.Keys.ToArray());

    internal void Restore((string[] V, string[] O, string[] A) s)
    {
        foreach (var k in Values.Keys.Except(s.V).ToList())
        {
            Values.Remove(k);
        }

        foreach (var k in Ops.Keys.Except(s.O).ToList())
        {
            Ops.Remove(k);
        }

        foreach (var k in Attributes.Keys.Except(s.A).ToList())
        {
            Attributes.Remove(k);
        }
    }
}

/// <summary>A rule: a match tree plus a replacement that receives the captures. Most canonicalizations are one of these.</summary>
public sealed class Rule : RewritePattern
{
    private readonly OpPat _pattern;
    private readonly Func<PatternMatch, PatternRewriter, bool> _rewrite;

    /// <param name="name">The rule's name, with its identity as a comment where declared (<c>x + 0 -> x</c>).</param>
    /// <param name="rewrite">Performs the replacement; returns false to decline after all (e.g. a type mismatch).</param>
    public Rule(string name, OpPat pattern, Func<PatternMatch, PatternRewriter, bool> rewrite, int benefit = 1)
        : base(name, pattern.OpName, benefit)
    {
        _pattern = pattern;
        _rewrite = rewrite;
    }

    /// <summary>A rule whose result is one of its captured values: <c>x * 1 -> x</c>.</summary>
    public static Rule ToCapture(string name, OpPat pattern, string capture) =>
        new(name, pattern, (m, rw) =>
        {
            var v = m[capture];
            if (v.Type != m.Root.Result(0).Type)
            {
                return false;
            }

            rw.ReplaceOp(m.Root, v);
            return true;
        });

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        var m = new PatternMatch { Root = op };
        return _pattern.MatchOp(op, m) && _rewrite(m, rewriter);
    }
}
