using static Tessera.Passes.RaiseUtil;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Raises exported activations to graph.gelu and graph.silu.
/// Why: GELU exports as six to nine elementwise ops and SiLU as two; a backend has one fused kernel for each.
/// GELU erf form <c>0.5 * x * (1 + erf(x / sqrt(2)))</c>, GELU tanh form
/// <c>0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))</c> (any association of the three factors, division or
/// multiplication by the constant), and SiLU <c>x * sigmoid(x)</c>.
/// </summary>
public sealed class GraphRaiseActivationsPass : Pass
{
    public override string Flag => "graph-raise-activations";

    public override string Summary => "raises GELU (erf and tanh forms) and SiLU subgraphs to graph.gelu and graph.silu";

    private static readonly Rule SiluRule = new(
        "silu",
        Pat.Commutative("graph.mul", Pat.Any("x"), Pat.Op("graph.sigmoid", Pat.Any("x"))),
        (m, rw) =>
        {
            Replace(rw, m.Root, "graph.silu", [m["x"]]);
            return true;
        });

    public override PassResult Run(Operation op, PassContext context) =>
        RaiseUtil.Run(op, context, [new GeluPattern(), SiluRule], (n, h) => Count(n, h));

    /// <summary>x / sqrt(2) or x * (1/sqrt(2)); returns x.</summary>
    private static Value? OverSqrt2(Value v)
    {
        if (Def(v, "graph.div") is { } d && IsScalar(d.Operand(1), Math.Sqrt(2)))
        {
            return d.Operand(0);
        }

        if (Def(v, "graph.mul") is { } m)
        {
            foreach (var (a, b) in Orders(m))
            {
                if (IsScalar(b, 1 / Math.Sqrt(2)))
                {
                    return a;
                }
            }
        }

        return null;
    }

    /// <summary>c * v in either order, c a scalar constant near <paramref name="c"/>; returns v.</summary>
    private static Value? TimesConst(Value v, double c)
    {
        if (Def(v, "graph.mul") is { } m)
        {
            foreach (var (a, b) in Orders(m))
            {
                if (IsScalar(b, c))
                {
                    return a;
                }
            }
        }

        return null;
    }

    /// <summary>x + 0.044715 * x^3 (Pow(x, 3) or x*x*x not matched); returns x.</summary>
    private static Value? CubicInner(Value v)
    {
        if (Def(v, "graph.add") is not { } add)
        {
            return null;
        }

        foreach (var (x, t) in Orders(add))
        {
            if (TimesConst(t, 0.044715) is { } cube && Def(cube, "graph.pow") is { } pow && IsScalar(pow.Operand(1), 3) && pow.Operand(0) == x)
            {
                return x;
            }
        }

        return null;
    }

    /// <summary>1 + erf(x/sqrt2) or 1 + tanh(...): returns (x, "none" | "tanh").</summary>
    private static (Value X, string Approx)? OnePlus(Value v)
    {
        if (Def(v, "graph.add") is not { } add)
        {
            return null;
        }

        foreach (var (f, one) in Orders(add))
        {
            if (!IsScalar(one, 1))
            {
                continue;
            }

            if (Def(f, "graph.erf") is { } erf && OverSqrt2(erf.Operand(0)) is { } x)
            {
                return (x, "none");
            }

            if (Def(f, "graph.tanh") is { } tanh && TimesConst(tanh.Operand(0), Math.Sqrt(2 / Math.PI)) is { } inner && CubicInner(inner) is { } x2)
            {
                return (x2, "tanh");
            }
        }

        return null;
    }

    /// <summary>The product of three factors {0.5, x, 1 + f(x)} in any association.</summary>
    private sealed class GeluPattern() : RewritePattern("gelu", "graph.mul", benefit: 2)
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            foreach (var (inner, c) in Orders(op))
            {
                if (Def(inner, "graph.mul") is not { } m)
                {
                    continue;
                }

                Value[] factors = [m.Operand(0), m.Operand(1), c];
                for (int i = 0; i < 3; i++)
                {
                    if (OnePlus(factors[i]) is not var (x, approx))
                    {
                        continue;
                    }

                    var rest = factors.Where((_, j) => j != i).ToArray();
                    if ((rest[0] == x && IsScalar(rest[1], 0.5)) || (rest[1] == x && IsScalar(rest[0], 0.5)))
                    {
                        Replace(rewriter, op, "graph.gelu", [x], ("approximate", new StringAttr(approx)));
                        return true;
                    }
                }
            }

            return false;
        }
    }
}
