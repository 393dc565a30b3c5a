namespace Tessera.Passes.Npu;

/// <summary>
/// Which graph.reduce_{sum,mean,max,min,sum_square} run on the vector unit, and what they reduce; npu-vector-to-tile
/// writes their tile.dispatch (<see cref="ReduceKernel"/>). When the reduced axes (unit dims aside) form one run the
/// input is outer × reduce × inner and the output outer × inner; otherwise they are several runs (the strided form).
/// keepdims does not change the output's bytes.
/// </summary>
public static class NpuReductions
{
    private static readonly Dictionary<string, string> Ops = new(StringComparer.Ordinal)
    {
        ["graph.reduce_sum"] = "sum", ["graph.reduce_mean"] = "mean", ["graph.reduce_max"] = "max",
        ["graph.reduce_min"] = "min", ["graph.reduce_sum_square"] = "sum_square",
    };

    private const int MaxDim = 65535;

    public static bool Handles(Operation op) => Ops.ContainsKey(op.Name);

    /// <summary>Null when the reduction runs on the vector unit; otherwise why it stays on the host.</summary>
    public static string? Reason(Operation op)
    {
        if (Mask(op) is not { } mask)
        {
            return "reduction axes that are not compile-time constants (or none, with noop_with_empty_axes)";
        }

        if (Shape(op, mask) is { } s)
        {
            return s.Inner > 1 && (s.Reduce > MaxDim || s.Inner > MaxDim) ? "a reduction over a middle axis longer than a DMA dim (65535)" : null;
        }

        var (kept, reduced) = Dims(op, mask);
        return kept.Concat(reduced).Any(d => d.N > MaxDim) || kept.Aggregate(1L, (p, d) => p * d.N) > int.MaxValue || reduced.Aggregate(1L, (p, d) => p * d.N) > int.MaxValue
            ? "a reduction over several runs of axes with a dim longer than a DMA dim (65535)" : null;
    }

    /// <summary>The reduction's kind: sum, mean, max, min or sum_square.</summary>
    public static string Kind(Operation op) => Ops[op.Name];

    /// <summary>The input's non-unit dims in order, each with whether it is reduced; null when the axes are not
    /// compile-time constants.</summary>
    public static (long N, bool Reduced)[]? Axes(Operation op)
    {
        var x = NpuPlacement.Shape(op.Operand(0));
        return Mask(op) is { } mask ? [.. x.Select((n, d) => (n, mask[d])).Where(d => d.n != 1)] : null;
    }

    /// <summary>The non-unit dims of the input as (size, element stride), split into kept and reduced, in order.</summary>
    private static ((long N, long Stride)[] Kept, (long N, long Stride)[] Reduced) Dims(Operation op, bool[] mask)
    {
        var x = NpuPlacement.Shape(op.Operand(0));
        var kept = new List<(long, long)>();
        var reduced = new List<(long, long)>();
        long stride = 1;
        for (int d = x.Length - 1; d >= 0; d--)
        {
            if (x[d] != 1)
            {
                (mask[d] ? reduced : kept).Insert(0, (x[d], stride));
            }

            stride *= x[d];
        }

        return (kept.ToArray(), reduced.ToArray());
    }

    /// <summary>Which input dims are reduced, or null when the axes are not compile-time constants.</summary>
    private static bool[]? Mask(Operation op)
    {
        var x = NpuPlacement.Shape(op.Operand(0));
        long[]? axes;
        bool fromInput = op.NumOperands > 1 && op.Operand(1).DefiningOp?.Name != "graph.none";
        if (op.GetAttr("axes") is ArrayAttr arr)
        {
            axes = arr.Elements.OfType<IntegerAttr>().Select(i => i.Value).ToArray();
        }
        else if (fromInput)
        {
            if (op.Operand(1).DefiningOp is not { Name: "arith.constant" } c || c.GetAttr("value") is not DenseElementsAttr d)
            {
                return null;
            }

            axes = Enumerable.Range(0, (int)d.ElementCount).Select(i => d.GetLong(i)).ToArray();
        }
        else
        {
            axes = [];
        }

        if (axes.Length == 0)
        {
            if ((op.GetAttr("noop_with_empty_axes") as IntegerAttr)?.Value is { } noop && noop != 0)
            {
                return null;
            }

            axes = Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
        }

        var reduced = new bool[x.Length];
        foreach (var a in axes)
        {
            long d = a < 0 ? a + x.Length : a;
            if (d < 0 || d >= x.Length)
            {
                return null;
            }

            reduced[d] = true;
        }

        return reduced;
    }

    /// <summary>(outer, reduce, inner) element counts when the reduced dims are one run (unit dims aside), else null.</summary>
    private static (long Outer, long Reduce, long Inner)? Shape(Operation op, bool[] reduced)
    {
        var x = NpuPlacement.Shape(op.Operand(0));
        // Walk the non-unit dims: kept ones before the reduced run are outer, after it inner; a second run fails.
        long outer = 1, reduce = 1, inner = 1;
        int phase = 0;   // 0: before the run, 1: in it, 2: after it
        for (int d = 0; d < x.Length; d++)
        {
            if (x[d] == 1)
            {
                continue;
            }

            if (reduced[d])
            {
                if (phase == 2)
                {
                    return null;
                }

                phase = 1;
                reduce *= x[d];
            }
            else if (phase == 0)
            {
                outer *= x[d];
            }
            else
            {
                phase = 2;
                inner *= x[d];
            }
        }

        return outer * inner > int.MaxValue || reduce > int.MaxValue ? null : (outer, reduce, inner);
    }
}
