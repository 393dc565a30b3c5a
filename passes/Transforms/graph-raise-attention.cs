using static Tessera.Passes.RaiseUtil;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Raises exported attention to graph.sdpa.
/// Why: eager attention exports as MatMul, scale, mask Add, Softmax and MatMul, materialising the [B, H, S, T]
/// scores; a backend wants one fused (flash-style) attention op. Matches
/// <c>MatMul(Softmax(MatMul(q, kT) * scale [+ mask], axis = -1), v)</c> with the scale a scalar constant multiplied
/// or divided on the product, on q or on kT (or absent), identity Casts around the Softmax, kT a Transpose of k (or
/// any rank-4 value, transposed back), and grouped-query head repetition of k and v
/// (<c>Reshape(Expand(Unsqueeze(k, 2), [b, h, r, t, d]), [b, h*r, t, d])</c>) folded into the op. The mask stays an
/// explicit operand.
/// </summary>
public sealed class GraphRaiseAttentionPass : Pass
{
    public override string Flag => "graph-raise-attention";

    public override string Summary => "raises softmax(q k^T * scale + mask) v subgraphs to graph.sdpa";

    public override PassResult Run(Operation op, PassContext context) =>
        RaiseUtil.Run(op, context, [new SdpaPattern()], (n, h) => Count(n, h));

    /// <summary>v * c or v / c with c a non-zero scalar constant: returns (v, factor); otherwise (v, 1).</summary>
    private static (Value V, double Factor) Unscale(Value v)
    {
        if (Def(v, "graph.div") is { } d && Scalar(d.Operand(1)) is double c && c != 0)
        {
            return (d.Operand(0), 1 / c);
        }

        if (Def(v, "graph.mul") is { } m)
        {
            foreach (var (a, b) in Orders(m))
            {
                if (Scalar(b) is double f && Scalar(a) is null)
                {
                    return (a, f);
                }
            }
        }

        return (v, 1);
    }

    /// <summary>Undoes grouped-query head repetition: Reshape(Expand(Unsqueeze(x, [2]), [b,h,r,t,d]), [b,h*r,t,d]) -> x.</summary>
    private static Value UnrepeatHeads(Value v)
    {
        if (Def(v, "graph.reshape") is not { NumOperands: 2 } reshape || Ints(reshape.Operand(1)) is not [var b, var hr, var t, var d]
            || Def(reshape.Operand(0), "graph.expand") is not { } expand || Ints(expand.Operand(1)) is not [var b5, var h, var r, var t5, var d5]
            || Def(expand.Operand(0), "graph.unsqueeze") is not { NumOperands: 2 } unsq || Ints(unsq.Operand(1)) is not [2]
            || ShapeOf(unsq.Operand(0)) is not [var xb, var xh, var xt, var xd])
        {
            return v;
        }

        bool shapesAgree = b > 0 && h > 0 && r > 0 && t > 0 && d > 0 && b == b5 && hr == h * r && t == t5 && d == d5;
        bool inputAgrees = (xb == -1 || xb == b || xb == 1) && (xh == -1 || xh == h || xh == 1) && (xt == -1 || xt == t) && xd == d;
        return shapesAgree && inputAgrees ? unsq.Operand(0) : v;
    }

    /// <summary>MatMul(P, v) with P = Softmax(scores) -> graph.sdpa(q, k, v, mask) {scale}.</summary>
    private sealed class SdpaPattern() : RewritePattern("sdpa", "graph.mat_mul")
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            if (op.NumOperands != 2 || Def(SkipCasts(op.Operand(0)), "graph.softmax") is not { } softmax)
            {
                return false;
            }

            long opset = softmax.GetAttr(Dialects.GraphDialect.OpsetAttr) is IntegerAttr o ? o.Value : 0;
            var scores = SkipCasts(softmax.Operand(0));
            if ((opset is > 0 and < 13) || !IsLastAxis(softmax, "axis", scores))
            {
                return false;
            }

            // scores = scaled (+ mask)
            var candidates = new List<(Value Scaled, Value? Mask)> { (scores, null) };
            if (Def(scores, "graph.add") is { } add)
            {
                candidates.InsertRange(0, Orders(add).Select(p => (p.A, (Value?)p.B)));
            }

            foreach (var (scaledValue, mask) in candidates)
            {
                var (prod, outer) = Unscale(SkipCasts(scaledValue));
                if (Def(SkipCasts(prod), "graph.mat_mul") is not { NumOperands: 2 } qk)
                {
                    continue;
                }

                var (q, sq) = Unscale(qk.Operand(0));
                var (kT, sk) = Unscale(qk.Operand(1));
                var v = op.Operand(1);
                if (RankOf(q) is int rq && rq != 4 || RankOf(kT) != 4 || RankOf(v) != 4 || (mask is not null && mask.Type is NoneType))
                {
                    continue;
                }

                double scale = outer * sq * sk;
                rewriter.SetInsertionPoint(op);
                var k = Untranspose(rewriter, kT, op.Location);
                k = UnrepeatHeads(k);
                v = UnrepeatHeads(v);
                var maskValue = mask ?? None(rewriter, op);
                Replace(rewriter, op, "graph.sdpa", [q, k, v, maskValue], ("is_causal", IntegerAttr.I64(0)), ("scale", F32(scale)));
                return true;
            }

            return false;
        }

        /// <summary>k from kT: Transpose(x, p) becomes Transpose(x, p with its last two swapped), or x when that is the identity.</summary>
        private static Value Untranspose(PatternRewriter rw, Value kT, Location loc)
        {
            long[] perm = [0, 1, 3, 2];
            var src = kT;
            if (Def(kT, "graph.transpose") is { NumOperands: 1 } t && t.GetAttr("perm") is ArrayAttr p && p.Elements.Count == 4
                && p.Elements.All(e => e is IntegerAttr))
            {
                var q = p.Elements.Select(e => ((IntegerAttr)e).Value).ToArray();
                perm = [q[0], q[1], q[3], q[2]];
                src = t.Operand(0);
            }

            if (perm.SequenceEqual([0L, 1, 2, 3]))
            {
                return src;
            }

            var type = src.Type is ShapedType st ? new TensorType(null, st.ElementType) : kT.Type;
            return rw.Create("graph.transpose", loc, [src], [type], [new("perm", ArrayAttr.OfInts(perm))]).Result(0);
        }
    }
}
