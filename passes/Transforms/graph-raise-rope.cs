using static Tessera.Passes.RaiseUtil;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Raises rotary position embeddings to graph.rope.
/// Why: RoPE exports as two Slices, a Neg, a Concat, two Muls and an Add per tensor; a backend applies it in one pass
/// over q and k. Matches <c>x * cos + rotate_half(x) * sin</c> with
/// <c>rotate_half(x) = concat(-x[..., d/2:], x[..., :d/2], axis = -1)</c> (Llama/Qwen2 HF style, interleaved = 0),
/// and the interleaved GPT-J form is left alone. The head dimension d must be known statically.
/// </summary>
public sealed class GraphRaiseRopePass : Pass
{
    public override string Flag => "graph-raise-rope";

    public override string Summary => "raises x*cos + rotate_half(x)*sin to graph.rope";

    public override PassResult Run(Operation op, PassContext context) =>
        RaiseUtil.Run(op, context, [new RopePattern()], (n, h) => Count(n, h));

    /// <summary>x[..., start:end] along the last axis with step 1; returns (x, start, end).</summary>
    private static (Value X, long Start, long End)? LastAxisSlice(Value v)
    {
        if (Def(v, "graph.slice") is not { NumOperands: >= 3 } s || Ints(s.Operand(1)) is not [var start] || Ints(s.Operand(2)) is not [var end])
        {
            return null;
        }

        var x = s.Operand(0);
        if (RankOf(x) is not int rank)
        {
            return null;
        }

        long axis = s.NumOperands >= 4 ? (Ints(s.Operand(3)) is [var a] ? a : long.MinValue) : 0;
        if (s.NumOperands >= 4 && s.Operand(3).Type is NoneType)
        {
            axis = 0;
        }

        bool stepOk = s.NumOperands < 5 || s.Operand(4).Type is NoneType || Ints(s.Operand(4)) is [1];
        return stepOk && (axis == -1 || axis == rank - 1) ? (x, start, end) : null;
    }

    /// <summary>rotate_half(x): concat(neg(x[h:]), x[:h]) on the last axis with 2h = d; returns x.</summary>
    private static Value? RotateHalf(Value v)
    {
        if (Def(v, "graph.concat") is not { NumOperands: 2 } cat || Def(cat.Operand(0), "graph.neg") is not { } neg
            || LastAxisSlice(neg.Operand(0)) is not var (x1, s1, e1) || LastAxisSlice(cat.Operand(1)) is not var (x0, s0, e0)
            || x0 != x1 || !IsLastAxis(cat, "axis", x0, long.MinValue) || ShapeOf(x0) is not { Length: > 0 } shape)
        {
            return null;
        }

        long d = shape[^1];
        long h = d / 2;
        return d > 0 && d % 2 == 0 && s0 == 0 && e0 == h && s1 == h && e1 >= d ? x0 : null;
    }

    /// <summary>x * cos + rotate_half(x) * sin -> graph.rope(x, cos, sin) {interleaved = 0}.</summary>
    private sealed class RopePattern() : RewritePattern("rope", "graph.add")
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            foreach (var (p, q) in Orders(op))
            {
                if (Def(p, "graph.mul") is not { } mc || Def(q, "graph.mul") is not { } ms)
                {
                    continue;
                }

                foreach (var (rot, sin) in Orders(ms))
                {
                    if (RotateHalf(rot) is not { } x)
                    {
                        continue;
                    }

                    foreach (var (x2, cos) in Orders(mc))
                    {
                        if (x2 == x)
                        {
                            Replace(rewriter, op, "graph.rope", [x, cos, sin], ("interleaved", IntegerAttr.I64(0)));
                            return true;
                        }
                    }
                }
            }

            return false;
        }
    }
}
