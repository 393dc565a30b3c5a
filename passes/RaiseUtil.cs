using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Passes;

/// <summary>Matching helpers shared by the graph-raise-* passes: constants, identity casts, ranks and static shapes.</summary>
internal static class RaiseUtil
{
    /// <summary>The op defining <paramref name="v"/> if it is named <paramref name="name"/>.</summary>
    public static Operation? Def(Value v, string name) => v.DefiningOp is { } d && d.Name == name && d.OpOperands.All(o => o.Value is not null) ? d : null;

    /// <summary>Looks through graph.cast ops that do not change the element type (Cast to the type it already has).</summary>
    public static Value SkipCasts(Value v)
    {
        while (Def(v, "graph.cast") is { NumOperands: 1 } c && c.GetAttr("to") is IntegerAttr to
               && c.Operand(0).Type is ShapedType src && OnnxTypes.ToIr((int)to.Value) is { } t && t == src.ElementType
               && v.Type is ShapedType dst && dst.ElementType == t)
        {
            v = c.Operand(0);
        }

        return v;
    }

    /// <summary>The elements of a constant operand (arith.constant with dense data), or null.</summary>
    public static NDArray? Const(Value v) =>
        v.DefiningOp is { Name: "arith.constant" } d && d.GetAttr("value") is DenseElementsAttr a ? Dialects.Graph.Convert.FromAttr(a) : null;

    /// <summary>
    /// The value of a small integer shape computation whose leaves are all constants (e.g. the Where/Equal/
    /// ConstantOfShape chain TorchScript emits for an Expand shape), evaluated with the reference kernels; null otherwise.
    /// The canonicalizer cannot fold these when their result types are unranked.
    /// </summary>
    public static NDArray? ConstEval(Value v, int depth = 0)
    {
        if (Const(v) is { } c)
        {
            return c;
        }

        if (depth > 16 || v.DefiningOp is not { NumResults: 1 } d || !d.Name.StartsWith("graph.", StringComparison.Ordinal)
            || GraphDialect.Info(d.Name) is not { Pure: true } info || v.Type is not ShapedType { ElementType: IntegerType or IndexType })
        {
            return null;
        }

        var inputs = new List<NDArray?>();
        foreach (var o in d.Operands)
        {
            if (o is null || o.Type is NoneType)
            {
                inputs.Add(null);
                continue;
            }

            if (ConstEval(o, depth + 1) is not { Length: <= 64 } a)
            {
                return null;
            }

            inputs.Add(a);
        }

        try
        {
            var opset = d.GetAttr(GraphDialect.OpsetAttr) is IntegerAttr i ? (int)i.Value : 0;
            return info.Kernel(new KernelContext(d, inputs, opset)) is [var r, ..] && r.Length <= 64 ? r : null;
        }
        catch (EvalException)
        {
            return null;
        }
    }

    /// <summary>
    /// The value of a single-element float constant of rank 0 or 1, which broadcasts against any non-scalar tensor
    /// without changing its shape; null otherwise.
    /// </summary>
    public static double? Scalar(Value v) => Const(v) is { IsFloat: true, Length: 1, Rank: <= 1 } a ? a.F![0] : null;

    /// <summary>True if <paramref name="v"/> is such a scalar constant within f32 rounding of <paramref name="expected"/>.</summary>
    public static bool IsScalar(Value v, double expected) => Scalar(v) is double s && Near(s, expected);

    public static bool Near(double a, double b) => Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Abs(b));

    public static long[]? Ints(Value v) => ConstEval(v) is { IsFloat: false } a ? a.AsLongs() : null;

    /// <summary>The rank of <paramref name="v"/> from its type or from the ops that produce it; null if unknown.</summary>
    public static int? RankOf(Value v, int depth = 0)
    {
        if (v.Type is ShapedType { IsRanked: true } st)
        {
            return st.Rank;
        }

        if (depth > 64 || v.DefiningOp is not { } d)
        {
            return null;
        }

        switch (d.Name)
        {
            case "graph.transpose":
                return d.GetAttr("perm") is ArrayAttr p ? p.Elements.Count : null;
            case "graph.reshape":
                return d.NumOperands == 2 && Ints(d.Operand(1)) is { } s ? s.Length : null;
            case "graph.unsqueeze":
                return d.NumOperands == 2 && Ints(d.Operand(1)) is { } ax && RankOf(d.Operand(0), depth + 1) is int r0 ? r0 + ax.Length : null;
            case "graph.add" or "graph.sub" or "graph.mul" or "graph.div" or "graph.rope" or "graph.mat_mul":
                {
                    int best = 0;
                    foreach (var o in d.Operands)
                    {
                        if (o is null || RankOf(o, depth + 1) is not int r)
                        {
                            return null;
                        }

                        best = Math.Max(best, r);
                    }

                    return best;
                }

            case "graph.cast" or "graph.neg" or "graph.softmax" or "graph.sigmoid" or "graph.silu" or "graph.gelu" or "graph.rms_norm" or "graph.layer_norm" or "graph.layer_normalization":
                return RankOf(d.Operand(0), depth + 1);
            case "graph.sdpa":
                return 4;
            default:
                return null;
        }
    }

    /// <summary>The dimensions of <paramref name="v"/> known statically (-1 where unknown), or null if the rank is unknown.</summary>
    public static long[]? ShapeOf(Value v, int depth = 0)
    {
        if (v.Type is ShapedType { IsRanked: true } st)
        {
            return st.Shape!.Select(x => x.IsDynamic ? -1 : x.Size).ToArray();
        }

        if (depth > 64 || v.DefiningOp is not { } d)
        {
            return null;
        }

        switch (d.Name)
        {
            case "graph.transpose" when d.GetAttr("perm") is ArrayAttr p && ShapeOf(d.Operand(0), depth + 1) is { } s && s.Length == p.Elements.Count:
                return p.Elements.Select(e => e is IntegerAttr i && i.Value >= 0 && i.Value < s.Length ? s[i.Value] : -1).ToArray();
            case "graph.reshape" when d.NumOperands == 2 && Ints(d.Operand(1)) is { } s:
                return s.Select(x => x > 0 ? x : -1).ToArray();
            case "graph.cast" or "graph.neg":
                return ShapeOf(d.Operand(0), depth + 1);
            case "graph.rope" when ShapeOf(d.Operand(0), depth + 1) is { Length: > 0 } xs && (RankOf(v) ?? xs.Length) == xs.Length:
                return xs.Select((x, i) => i == xs.Length - 1 ? x : -1).ToArray();
            default:
                return RankOf(v) is int r ? Enumerable.Repeat(-1L, r).ToArray() : null;
        }
    }

    /// <summary>True if the axes (attribute or opset-18 operand) of a reduction are exactly the last axis.</summary>
    public static bool ReducesLastAxis(Operation reduce, Value input)
    {
        long[]? axes = reduce.GetAttr("axes") is ArrayAttr a ? a.Elements.Select(e => e is IntegerAttr i ? i.Value : long.MinValue).ToArray()
            : reduce.NumOperands == 2 ? Ints(reduce.Operand(1)) : null;
        if (axes is not [var axis] || (reduce.GetAttr("keepdims") is IntegerAttr k && k.Value != 1))
        {
            return false;
        }

        return axis == -1 || (RankOf(input) is int r && axis == r - 1);
    }

    /// <summary>True if an axis attribute names the last axis of <paramref name="input"/> (default <paramref name="def"/>).</summary>
    public static bool IsLastAxis(Operation op, string attr, Value input, long def = -1)
    {
        long axis = op.GetAttr(attr) is IntegerAttr i ? i.Value : def;
        return axis == -1 || (RankOf(input) is int r && axis == r - 1);
    }

    /// <summary>The two operands of a binary op in both orders.</summary>
    public static IEnumerable<(Value A, Value B)> Orders(Operation op)
    {
        yield return (op.Operand(0), op.Operand(1));
        yield return (op.Operand(1), op.Operand(0));
    }

    /// <summary>Replaces <paramref name="root"/> with a new op named <paramref name="name"/> of the same result type.</summary>
    public static Operation Replace(PatternRewriter rw, Operation root, string name, IEnumerable<Value> operands, params (string Key, Attribute Value)[] attrs)
    {
        var state = new OperationState(name, root.Location);
        state.AddOperands(operands).AddTypes(root.Result(0).Type);
        foreach (var (k, a) in attrs)
        {
            state.AddAttr(k, a);
        }

        return rw.ReplaceOpWithNew(root, state);
    }

    /// <summary>A graph.none value inserted before <paramref name="before"/>.</summary>
    public static Value None(PatternRewriter rw, Operation before)
    {
        rw.SetInsertionPoint(before);
        return rw.Create(GraphDialect.None, before.Location, [], [NoneType.Instance]).Result(0);
    }

    public static FloatAttr F32(double v) => new(v, FloatType.F32);

    /// <summary>Runs <paramref name="patterns"/> greedily (no folding) and records the pattern hits.</summary>
    public static PassResult Run(Operation op, PassContext context, IEnumerable<RewritePattern> patterns, Action<string, int> count)
    {
        var result = GreedyRewriteDriver.Apply(context.Context, op, patterns, new GreedyRewriteConfig { Fold = false });
        foreach (var (name, hits) in result.PatternHits)
        {
            count(name, hits);
        }

        return result.Changed ? PassResult.Changed : PassResult.Unchanged;
    }
}
