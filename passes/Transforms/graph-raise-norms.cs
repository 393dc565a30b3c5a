using static Tessera.Passes.RaiseUtil;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Raises exported normalizations to graph.rms_norm and graph.layer_norm.
/// Why: a backend wants one fused normalization kernel, not seven elementwise ops and two reductions.
/// RMSNorm: <c>w * (x * (1 / sqrt(mean(x^2, -1) + eps)))</c> or <c>w * (x / sqrt(...))</c>, with identity Casts
/// anywhere on the path (Llama/Qwen2 TorchScript exports). LayerNorm: the decomposed
/// <c>w * ((x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)) [+ b]</c> and ONNX LayerNormalization (GPT-2).
/// </summary>
public sealed class GraphRaiseNormsPass : Pass
{
    public override string Flag => "graph-raise-norms";

    public override string Summary => "raises RMSNorm and LayerNorm subgraphs to graph.rms_norm and graph.layer_norm";

    public override PassResult Run(Operation op, PassContext context) =>
        RaiseUtil.Run(op, context, [new RmsNorm(), new LayerNormDecomposed(), new LayerNormBias(), new LayerNormalizationOp()], (n, h) => Count(n, h));

    /// <summary>mean(x^2) over the last axis: ReduceMean(Pow(x, 2)) or ReduceMean(Mul(x, x)); returns x.</summary>
    private static Value? MeanSquare(Value v)
    {
        if (Def(SkipCasts(v), "graph.reduce_mean") is not { } mean)
        {
            return null;
        }

        var sq = SkipCasts(mean.Operand(0));
        Value? x = Def(sq, "graph.pow") is { } pow && IsScalar(pow.Operand(1), 2) ? pow.Operand(0)
            : Def(sq, "graph.mul") is { } m && SkipCasts(m.Operand(0)) == SkipCasts(m.Operand(1)) ? m.Operand(0) : null;
        return x is not null && ReducesLastAxis(mean, x) ? x : null;
    }

    /// <summary>sqrt(mean + eps) with eps a scalar constant; returns (the mean operand, eps).</summary>
    private static (Value Mean, double Eps)? SqrtPlusEps(Value v)
    {
        if (Def(SkipCasts(v), "graph.sqrt") is not { } sqrt || Def(SkipCasts(sqrt.Operand(0)), "graph.add") is not { } add)
        {
            return null;
        }

        foreach (var (a, b) in Orders(add))
        {
            if (Scalar(b) is double eps && eps >= 0)
            {
                return (a, eps);
            }
        }

        return null;
    }

    /// <summary>The normalized value x / rms: returns (x, eps).</summary>
    private static (Value X, double Eps)? RmsNormalized(Value v)
    {
        v = SkipCasts(v);
        if (Def(v, "graph.div") is { } div && SqrtPlusEps(div.Operand(1)) is var (mean, eps)
            && MeanSquare(mean) is { } x && SkipCasts(x) == SkipCasts(div.Operand(0)))
        {
            return (div.Operand(0), eps);
        }

        if (Def(v, "graph.mul") is { } mul)
        {
            foreach (var (a, b) in Orders(mul))
            {
                var inv = SkipCasts(b);
                Value? root = Def(inv, "graph.div") is { } d && IsScalar(d.Operand(0), 1) ? d.Operand(1)
                    : Def(inv, "graph.reciprocal") is { } r ? r.Operand(0) : null;
                if (root is not null && SqrtPlusEps(root) is var (m2, eps2) && MeanSquare(m2) is { } x2 && SkipCasts(x2) == SkipCasts(a))
                {
                    return (a, eps2);
                }
            }
        }

        return null;
    }

    /// <summary>The weight must not change the shape: a rank-1 (or lower) tensor whose size is 1 or the normalized axis.</summary>
    private static bool IsWeight(Value w, Value x)
    {
        if (w.Type is not ShapedType { IsRanked: true } t || t.Rank > 1)
        {
            return false;
        }

        long n = t.Rank == 0 ? 1 : t.Shape![0].IsDynamic ? -1 : t.Shape[0].Size;
        long last = ShapeOf(x) is { Length: > 0 } s ? s[^1] : -1;
        return n == 1 || (n > 0 && (last == -1 || last == n));
    }

    /// <summary>w * rmsnorm(x) -> graph.rms_norm(x, w).</summary>
    private sealed class RmsNorm() : RewritePattern("rms-norm", "graph.mul", benefit: 2)
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            foreach (var (w, n) in Orders(op))
            {
                if (RmsNormalized(n) is var (x, eps) && IsWeight(w, x))
                {
                    Replace(rewriter, op, "graph.rms_norm", [x, w], ("axis", IntegerAttr.I64(-1)), ("epsilon", F32(eps)));
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>w * ((x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)) -> graph.layer_norm(x, w, none).</summary>
    private sealed class LayerNormDecomposed() : RewritePattern("layer-norm", "graph.mul", benefit: 3)
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            foreach (var (w, n) in Orders(op))
            {
                if (Def(SkipCasts(n), "graph.div") is not { } div || Def(SkipCasts(div.Operand(0)), "graph.sub") is not { } sub
                    || Def(SkipCasts(sub.Operand(1)), "graph.reduce_mean") is not { } mean
                    || SkipCasts(mean.Operand(0)) != SkipCasts(sub.Operand(0)) || !ReducesLastAxis(mean, sub.Operand(0))
                    || SqrtPlusEps(div.Operand(1)) is not var (varMean, eps) || MeanSquare(varMean) is not { } centered
                    || SkipCasts(centered) != SkipCasts(div.Operand(0)) || !IsWeight(w, sub.Operand(0)))
                {
                    continue;
                }

                var none = None(rewriter, op);
                Replace(rewriter, op, "graph.layer_norm", [sub.Operand(0), w, none], ("axis", IntegerAttr.I64(-1)), ("epsilon", F32(eps)));
                return true;
            }

            return false;
        }
    }

    /// <summary>graph.layer_norm(x, w, none) + b -> graph.layer_norm(x, w, b) for a rank-1 b.</summary>
    private sealed class LayerNormBias() : RewritePattern("layer-norm-bias", "graph.add")
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            foreach (var (ln, b) in Orders(op))
            {
                if (Def(ln, "graph.layer_norm") is { NumOperands: 3 } l && l.Operand(2).Type is NoneType && ln.HasOneUse
                    && IsWeight(b, l.Operand(0)) && l.GetAttr("axis") is IntegerAttr { Value: -1 })
                {
                    var attrs = l.Attributes.Select(a => (a.Key, a.Value)).ToArray();
                    Replace(rewriter, op, "graph.layer_norm", [l.Operand(0), l.Operand(1), b], attrs);
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>ONNX LayerNormalization with only its first result used -> graph.layer_norm.</summary>
    private sealed class LayerNormalizationOp() : RewritePattern("layer-normalization", "graph.layer_normalization")
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            if (op.NumOperands is < 2 or > 3 || op.Results.Skip(1).Any(r => r.HasUses) || op.NumResults != 1
                || (op.GetAttr("stash_type") is IntegerAttr st && st.Value != 1) || op.OpOperands.Any(o => o.Value is null))
            {
                return false;
            }

            var bias = op.NumOperands == 3 ? op.Operand(2) : None(rewriter, op);
            long axis = op.GetAttr("axis") is IntegerAttr a ? a.Value : -1;
            double eps = op.GetAttr("epsilon") is FloatAttr e ? e.Value : 1e-5f;
            Replace(rewriter, op, "graph.layer_norm", [op.Operand(0), op.Operand(1), bias], ("axis", IntegerAttr.I64(axis)), ("epsilon", F32(eps)));
            return true;
        }
    }
}
