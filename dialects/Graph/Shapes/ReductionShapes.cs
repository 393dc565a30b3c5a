using static Tessera.Dialects.Graph.ElementwiseShapes;
using static Tessera.Dialects.Graph.ShapeRules;

namespace Tessera.Dialects.Graph;

/// <summary>Shape rules of reductions, arg-reductions, the softmax family, matrix products and normalizations.</summary>
public static class ReductionShapes
{
    private static readonly (string Name, int AxesInputSince)[] Reductions =
    [
        ("ReduceL1", 18), ("ReduceL2", 18), ("ReduceLogSum", 18), ("ReduceLogSumExp", 18), ("ReduceMax", 18),
        ("ReduceMean", 18), ("ReduceMin", 18), ("ReduceProd", 18), ("ReduceSum", 13), ("ReduceSumSquare", 18),
    ];

    private static readonly string[] SameAsInput =
    [
        "Softmax", "LogSoftmax", "Hardmax", "InstanceNormalization", "GroupNormalization", "RMSNormalization",
        "LpNormalization", "MeanVarianceNormalization", "CumSum",
    ];

    public static IEnumerable<(string IrName, ShapeFn Fn)> Rules =>
        Reductions.Select(r => (Ir(r.Name), (ShapeFn)(c => Reduce(c, r.AxesInputSince))))
            .Concat(SameAsInput.Select(n => (Ir(n), SameAs(0))))
            .Concat(
            [
                (Ir("ArgMax"), ArgReduce),
                (Ir("ArgMin"), ArgReduce),
                (Ir("MatMul"), MatMul),
                (Ir("MatMulInteger"), MatMul),
                (Ir("Gemm"), Gemm),
                (Ir("LayerNormalization"), LayerNorm),
                (Ir("BatchNormalization"), BatchNorm),
                (Ir("TopK"), TopK),
            ]);

    private static IReadOnlyList<Dim[]?>? Reduce(ShapeContext c, int axesInputSince)
    {
        if (c.In(0) is not { } x)
        {
            return null;
        }

        bool keep = c.Int("keepdims", 1) != 0;
        long[]? axes;
        if (c.HasAttr("axes") || c.Opset is > 0 && c.Opset < axesInputSince)
        {
            axes = c.IntsAttr("axes");
        }
        else if (c.Has(1))
        {
            axes = c.Ints(1);
            if (axes is null)
            {
                // Axes computed at run time: with keepdims the rank is known, dims that are 1 stay 1.
                return keep ? One(x.Select(d => d == new Dim(1) ? d : Unknown).ToArray()) : null;
            }
        }
        else
        {
            axes = null;
        }

        if (axes is null || axes.Length == 0)
        {
            if (c.Int("noop_with_empty_axes", 0) != 0)
            {
                return One(x);
            }

            axes = Enumerable.Range(0, x.Length).Select(d => (long)d).ToArray();
        }

        return Axes(axes, x.Length) is { } set ? One(ShapeRules.Reduce(x, set, keep)) : null;
    }

    private static IReadOnlyList<Dim[]?>? ArgReduce(ShapeContext c) =>
        c.In(0) is { } x && Axis(c.Int("axis", 0), x.Length) is { } a ? One(ShapeRules.Reduce(x, new HashSet<int> { a }, c.Int("keepdims", 1) != 0)) : null;

    /// <summary>Numpy matmul: 1-D operands get a dim prepended (a) or appended (b) and removed again; batch dims broadcast.</summary>
    private static IReadOnlyList<Dim[]?>? MatMul(ShapeContext c)
    {
        if (c.In(0) is not { Length: > 0 } a || c.In(1) is not { Length: > 0 } b)
        {
            return null;
        }

        bool aVec = a.Length == 1, bVec = b.Length == 1;
        var a2 = aVec ? [1, a[0]] : a;
        var b2 = bVec ? [b[0], 1] : b;
        if (Broadcast(a2[^1], b2[^2]) is null)
        {
            return null;
        }

        if (Broadcast([a2[..^2], b2[..^2]]) is not { } batch)
        {
            return null;
        }

        var r = batch.ToList();
        if (!aVec)
        {
            r.Add(a2[^2]);
        }

        if (!bVec)
        {
            r.Add(b2[^1]);
        }

        return One(r.ToArray());
    }

    private static IReadOnlyList<Dim[]?>? Gemm(ShapeContext c)
    {
        if (c.In(0) is not { Length: 2 } a || c.In(1) is not { Length: 2 } b)
        {
            return null;
        }

        var m = c.Int("transA", 0) != 0 ? a[1] : a[0];
        var n = c.Int("transB", 0) != 0 ? b[0] : b[1];
        return One([m, n]);
    }

    /// <summary>Y is X's shape; Mean and InvStdDev keep the dims before axis and have 1 from axis on.</summary>
    private static IReadOnlyList<Dim[]?>? LayerNorm(ShapeContext c)
    {
        if (c.In(0) is not { } x || Axis(c.Int("axis", -1), x.Length) is not { } axis)
        {
            return null;
        }

        var stat = x.Select((d, k) => k < axis ? d : new Dim(1)).ToArray();
        return [x, .. Enumerable.Repeat(stat, Math.Max(c.NumResults - 1, 0))];
    }

    /// <summary>Y is X's shape; the running mean and variance outputs are [C].</summary>
    private static IReadOnlyList<Dim[]?>? BatchNorm(ShapeContext c)
    {
        if (c.In(0) is not { Length: >= 2 } x)
        {
            return null;
        }

        return [x, .. Enumerable.Repeat<Dim[]?>([x[1]], Math.Max(c.NumResults - 1, 0))];
    }

    private static IReadOnlyList<Dim[]?>? TopK(ShapeContext c)
    {
        if (c.In(0) is not { } x || Axis(c.Int("axis", -1), x.Length) is not { } axis)
        {
            return null;
        }

        Dim k = c.HasAttr("k") ? new Dim(c.Int("k", 0)) : c.Ints(1) is [var kv] ? new Dim(kv) : Unknown;
        var r = (Dim[])x.Clone();
        r[axis] = k;
        return [r, r];
    }
}
