using static Tessera.Dialects.Graph.ReductionOpsHelpers;

namespace Tessera.Dialects.Graph;

/// <summary>
/// Reductions, arg-reductions, softmax family, matrix products and normalizations: the reference kernels and op-table rows.
/// </summary>
public static partial class ReductionOps
{
    private enum ReduceKind { L1, L2, LogSum, LogSumExp, Max, Mean, Min, Prod, Sum, SumSquare }

    public static IEnumerable<GraphOpInfo> Ops =>
    [
        ReduceRow("ReduceL1", ReduceKind.L1, 18, "Sum of absolute values over axes"),
        ReduceRow("ReduceL2", ReduceKind.L2, 18, "Euclidean norm over axes"),
        ReduceRow("ReduceLogSum", ReduceKind.LogSum, 18, "Log of the sum over axes"),
        ReduceRow("ReduceLogSumExp", ReduceKind.LogSumExp, 18, "Log of the sum of exponentials over axes"),
        ReduceRow("ReduceMax", ReduceKind.Max, 18, "Maximum over axes"),
        ReduceRow("ReduceMean", ReduceKind.Mean, 18, "Mean over axes"),
        ReduceRow("ReduceMin", ReduceKind.Min, 18, "Minimum over axes"),
        ReduceRow("ReduceProd", ReduceKind.Prod, 18, "Product over axes"),
        ReduceRow("ReduceSum", ReduceKind.Sum, 13, "Sum over axes"),
        ReduceRow("ReduceSumSquare", ReduceKind.SumSquare, 18, "Sum of squares over axes"),
        GraphOpInfo.Onnx("ArgMax", k => ArgReduce(k, max: true)) with { ResultType = Rules.I64, Summary = "Index of the maximum along an axis" },
        GraphOpInfo.Onnx("ArgMin", k => ArgReduce(k, max: false)) with { ResultType = Rules.I64, Summary = "Index of the minimum along an axis" },
        GraphOpInfo.Onnx("Softmax", k => SoftmaxFamily(k, SoftKind.Softmax)) with { Summary = "Softmax along an axis" },
        GraphOpInfo.Onnx("LogSoftmax", k => SoftmaxFamily(k, SoftKind.LogSoftmax)) with { Summary = "Log of softmax along an axis" },
        GraphOpInfo.Onnx("Hardmax", k => SoftmaxFamily(k, SoftKind.Hardmax)) with { Summary = "One-hot of the first maximum along an axis" },
        GraphOpInfo.Onnx("MatMul", MatMul) with { Summary = "Numpy-style batched matrix product" },
        GraphOpInfo.Onnx("Gemm", Gemm) with { Summary = "alpha * A' * B' + beta * C" },
        GraphOpInfo.Onnx("MatMulInteger", MatMulInteger, since: 10) with { ResultType = Rules.Fixed(IntegerType.I32), Summary = "Integer matrix product with zero points" },
        GraphOpInfo.Onnx("Einsum", Einsum, since: 12) with { Summary = "Einstein summation" },
        GraphOpInfo.Onnx("LayerNormalization", LayerNormalization, since: 17) with { NumResults = 3, Summary = "Normalization over the trailing axes from axis" },
        GraphOpInfo.Onnx("BatchNormalization", BatchNormalization) with { NumResults = 3, Summary = "Per-channel normalization with given or batch statistics" },
        GraphOpInfo.Onnx("InstanceNormalization", InstanceNormalization) with { Summary = "Per-instance, per-channel normalization" },
        GraphOpInfo.Onnx("GroupNormalization", GroupNormalization, since: 18) with { Summary = "Normalization over channel groups" },
        GraphOpInfo.Onnx("RMSNormalization", RmsNormalization, since: 23) with { Summary = "Root-mean-square normalization over the trailing axes" },
        GraphOpInfo.Onnx("LpNormalization", LpNormalization) with { Summary = "Lp-normalization along an axis" },
        GraphOpInfo.Onnx("MeanVarianceNormalization", MeanVarianceNormalization, since: 9) with { Summary = "Zero-mean, unit-variance normalization over axes" },
        GraphOpInfo.Onnx("CumSum", CumSum, since: 11) with { Summary = "Cumulative sum along an axis" },
        GraphOpInfo.Onnx("TopK", TopK) with
        {
            NumResults = 2,
            ResultType = (c, i) => i == 1 ? IntegerType.I64 : c.Inputs.Count > 0 ? c.Inputs[0] : null,
            Summary = "The k largest or smallest elements along an axis and their indices",
        },
    ];

    private static GraphOpInfo ReduceRow(string name, ReduceKind kind, int axesInputSince, string summary) =>
        GraphOpInfo.Onnx(name, k => Reduce(k, kind, axesInputSince)) with { Summary = summary };

    private static IReadOnlyList<NDArray> Reduce(KernelContext k, ReduceKind kind, int axesInputSince)
    {
        var x = k.In(0);
        long[]? axes;
        bool noop = false;
        if (OpsetOf(k) < axesInputSince)
        {
            axes = k.Ints("axes");
        }
        else
        {
            axes = k.Input(1)?.AsLongs();
            noop = k.Int("noop_with_empty_axes", 0) != 0;
        }

        if (axes is null || axes.Length == 0)
        {
            if (noop)
            {
                return [x];
            }

            axes = Enumerable.Range(0, x.Rank).Select(d => (long)d).ToArray();
        }

        var mask = AxisMask(axes, x.Rank);
        bool keep = k.Int("keepdims", 1) != 0;
        var outShape = ReducedShape(x.Shape, mask, keep);
        var map = GroupIndex(x.Shape, mask, out long groups);
        var counts = new long[groups];
        foreach (var g in map)
        {
            counts[g]++;
        }

        if (x.IsFloat || kind is ReduceKind.L2 or ReduceKind.LogSum or ReduceKind.LogSumExp)
        {
            return [NDArray.Create(x.ElementType, outShape, ReduceDoubles(x.AsDoubles(), map, counts, kind))];
        }

        return [NDArray.Create(x.ElementType, outShape, ReduceLongs(x, map, counts, kind))];
    }

    private static double[] ReduceDoubles(double[] v, long[] map, long[] counts, ReduceKind kind)
    {
        long groups = counts.LongLength;
        var acc = new double[groups];
        double init = kind switch
        {
            ReduceKind.Prod => 1,
            ReduceKind.Max or ReduceKind.LogSumExp => double.NegativeInfinity,
            ReduceKind.Min => double.PositiveInfinity,
            _ => 0,
        };
        Array.Fill(acc, init);
        for (long i = 0; i < v.LongLength; i++)
        {
            double a = v[i];
            long g = map[i];
            acc[g] = kind switch
            {
                ReduceKind.L1 => acc[g] + Math.Abs(a),
                ReduceKind.L2 or ReduceKind.SumSquare => acc[g] + a * a,
                ReduceKind.Max or ReduceKind.LogSumExp => double.IsNaN(a) || a > acc[g] ? a : acc[g],
                ReduceKind.Min => double.IsNaN(a) || a < acc[g] ? a : acc[g],
                ReduceKind.Prod => acc[g] * a,
                _ => acc[g] + a,
            };
        }

        if (kind == ReduceKind.LogSumExp)
        {
            var sums = new double[groups];
            for (long i = 0; i < v.LongLength; i++)
            {
                double m = acc[map[i]];
                sums[map[i]] += double.IsInfinity(m) ? Math.Exp(v[i]) : Math.Exp(v[i] - m);
            }

            for (long g = 0; g < groups; g++)
            {
                double m = acc[g];
                acc[g] = double.IsNaN(m) ? m : double.IsInfinity(m) ? Math.Log(sums[g]) : m + Math.Log(sums[g]);
            }

            return acc;
        }

        for (long g = 0; g < groups; g++)
        {
            acc[g] = kind switch
            {
                ReduceKind.L2 => Math.Sqrt(acc[g]),
                ReduceKind.LogSum => Math.Log(acc[g]),
                ReduceKind.Mean => acc[g] / counts[g],
                _ => acc[g],
            };
        }

        return acc;
    }

    private static long[] ReduceLongs(NDArray x, long[] map, long[] counts, ReduceKind kind)
    {
        var v = x.I!;
        bool u64 = x.ElementType is IntegerType { IsUnsigned: true, Width: 64 };
        var (min, max) = IntRange(x.ElementType);
        long groups = counts.LongLength;
        var acc = new long[groups];
        Array.Fill(acc, kind switch { ReduceKind.Prod => 1L, ReduceKind.Max => min, ReduceKind.Min => max, _ => 0L });
        for (long i = 0; i < v.LongLength; i++)
        {
            long a = v[i];
            long g = map[i];
            acc[g] = kind switch
            {
                ReduceKind.L1 => unchecked(acc[g] + Math.Abs(a)),
                ReduceKind.SumSquare => unchecked(acc[g] + a * a),
                ReduceKind.Max => Less(acc[g], a, u64) ? a : acc[g],
                ReduceKind.Min => Less(a, acc[g], u64) ? a : acc[g],
                ReduceKind.Prod => unchecked(acc[g] * a),
                _ => unchecked(acc[g] + a),
            };
        }

        if (kind == ReduceKind.Mean)
        {
            for (long g = 0; g < groups; g++)
            {
                acc[g] = counts[g] == 0 ? 0 : u64 ? (long)((ulong)acc[g] / (ulong)counts[g]) : acc[g] / counts[g];
            }
        }

        return acc;
    }

    private static bool Less(long a, long b, bool u64) => u64 ? (ulong)a < (ulong)b : a < b;

    /// <summary>The smallest and largest value of an integer element type (u64's largest as its bit pattern).</summary>
    private static (long Min, long Max) IntRange(Type t) => t switch
    {
        IntegerType { Width: 1 } => (0, 1),
        IntegerType { Width: 64, IsUnsigned: true } => (0, -1),
        IntegerType { Width: 64 } => (long.MinValue, long.MaxValue),
        IntegerType { IsUnsigned: true } it => (0, (1L << it.Width) - 1),
        IntegerType it => (-(1L << (it.Width - 1)), (1L << (it.Width - 1)) - 1),
        _ => (long.MinValue, long.MaxValue),
    };

    private static IReadOnlyList<NDArray> ArgReduce(KernelContext k, bool max)
    {
        var x = k.In(0);
        if (x.Rank == 0)
        {
            throw new EvalException("ArgMax/ArgMin need an input of rank at least 1");
        }

        int axis = KernelContext.Axis(k.Int("axis", 0), x.Rank);
        bool keep = k.Int("keepdims", 1) != 0;
        bool last = k.Int("select_last_index", 0) != 0;
        var (outer, n, inner) = Lanes(x.Shape, axis);
        if (n == 0)
        {
            throw new EvalException("ArgMax/ArgMin over an empty axis");
        }

        var v = x.AsDoubles();
        bool u64 = x.ElementType is IntegerType { IsUnsigned: true, Width: 64 };
        var raw = x.I;
        var res = new long[outer * inner];
        for (long o = 0; o < outer; o++)
        {
            for (long i = 0; i < inner; i++)
            {
                long best = 0;
                long baseIdx = o * n * inner + i;
                for (long j = 1; j < n; j++)
                {
                    long cand = baseIdx + j * inner, cur = baseIdx + best * inner;
                    int c = raw is not null && u64 ? ((ulong)raw[cand]).CompareTo((ulong)raw[cur]) : CompareNanHigh(v[cand], v[cur]);
                    if (!max)
                    {
                        c = raw is not null && u64 ? -c : CompareNanLow(v[cand], v[cur]);
                    }

                    if (c > 0 || (c == 0 && last))
                    {
                        best = j;
                    }
                }

                res[o * inner + i] = best;
            }
        }

        var shape = (long[])x.Shape.Clone();
        shape[axis] = 1;
        if (!keep)
        {
            shape = shape.Where((_, d) => d != axis).ToArray();
        }

        return [NDArray.Create(IntegerType.I64, shape, res)];
    }

    /// <summary>Positive when <paramref name="a"/> is the better maximum; NaN wins (numpy's first NaN).</summary>
    private static int CompareNanHigh(double a, double b) =>
        double.IsNaN(b) ? -1 : double.IsNaN(a) ? 1 : a.CompareTo(b);

    /// <summary>Positive when <paramref name="a"/> is the better minimum; NaN wins (numpy's first NaN).</summary>
    private static int CompareNanLow(double a, double b) =>
        double.IsNaN(b) ? -1 : double.IsNaN(a) ? 1 : b.CompareTo(a);
}
