using static Tessera.Dialects.Graph.ReductionOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class ReductionOps
{
    private enum SoftKind { Softmax, LogSoftmax, Hardmax }

    private static IReadOnlyList<NDArray> SoftmaxFamily(KernelContext k, SoftKind kind)
    {
        var x = k.In(0);
        if (x.Rank == 0)
        {
            throw new EvalException("softmax needs an input of rank at least 1");
        }

        long outer, n, inner;
        if (OpsetOf(k) < 13)
        {
            // Opsets 1-12 coerce the input to 2-D at axis and work along the flattened second dimension.
            long a = k.Int("axis", 1);
            int axis = a == x.Rank ? x.Rank : KernelContext.Axis(a, x.Rank);
            (outer, n, inner) = (Prod(x.Shape, 0, axis), Prod(x.Shape, axis, x.Rank), 1);
        }
        else
        {
            (outer, n, inner) = Lanes(x.Shape, KernelContext.Axis(k.Int("axis", -1), x.Rank));
        }

        var v = x.AsDoubles();
        var r = new double[v.LongLength];
        for (long o = 0; o < outer; o++)
        {
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                if (kind == SoftKind.Hardmax)
                {
                    long arg = 0;
                    for (long j = 1; j < n; j++)
                    {
                        if (CompareNanHigh(v[b + j * inner], v[b + arg * inner]) > 0)
                        {
                            arg = j;
                        }
                    }

                    if (n > 0)
                    {
                        r[b + arg * inner] = 1;
                    }

                    continue;
                }

                double m = double.NegativeInfinity;
                for (long j = 0; j < n; j++)
                {
                    m = Math.Max(m, v[b + j * inner]);
                }

                double shift = double.IsInfinity(m) ? 0 : m;
                double sum = 0;
                for (long j = 0; j < n; j++)
                {
                    sum += Math.Exp(v[b + j * inner] - shift);
                }

                double logSum = Math.Log(sum);
                for (long j = 0; j < n; j++)
                {
                    double d = v[b + j * inner] - shift;
                    r[b + j * inner] = kind == SoftKind.Softmax ? Math.Exp(d) / sum : d - logSum;
                }
            }
        }

        return [NDArray.Create(x.ElementType, x.Shape, r)];
    }

    private static IReadOnlyList<NDArray> CumSum(KernelContext k)
    {
        var x = k.In(0);
        var axisT = k.In(1);
        if (axisT.Length != 1)
        {
            throw new EvalException("CumSum's axis must be a scalar");
        }

        if (x.Rank == 0)
        {
            return [x];
        }

        var (outer, n, inner) = Lanes(x.Shape, KernelContext.Axis(axisT.GetI(0), x.Rank));
        bool exclusive = k.Int("exclusive", 0) != 0, reverse = k.Int("reverse", 0) != 0;
        if (x.IsFloat)
        {
            var v = x.F!;
            var r = new double[v.LongLength];
            Scan(outer, n, inner, exclusive, reverse, (from, to, prev) => r[to] = (prev < 0 ? 0 : r[prev]) + (from < 0 ? 0 : v[from]));
            return [NDArray.Create(x.ElementType, x.Shape, r)];
        }
        else
        {
            var v = x.I!;
            var r = new long[v.LongLength];
            Scan(outer, n, inner, exclusive, reverse, (from, to, prev) => r[to] = unchecked((prev < 0 ? 0 : r[prev]) + (from < 0 ? 0 : v[from])));
            return [NDArray.Create(x.ElementType, x.Shape, r)];
        }
    }

    /// <summary>Visits each lane in scan order: step(from, to, prev) adds element <c>from</c> (-1: none) to the running value at <c>prev</c> (-1: zero).</summary>
    private static void Scan(long outer, long n, long inner, bool exclusive, bool reverse, Action<long, long, long> step)
    {
        for (long o = 0; o < outer; o++)
        {
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                long prev = -1, prevElem = -1;
                for (long t = 0; t < n; t++)
                {
                    long j = reverse ? n - 1 - t : t;
                    long at = b + j * inner;
                    step(exclusive ? prevElem : at, at, prev);
                    prev = at;
                    prevElem = at;
                }
            }
        }
    }

    private static IReadOnlyList<NDArray> TopK(KernelContext k)
    {
        var x = k.In(0);
        if (x.Rank == 0)
        {
            throw new EvalException("TopK needs an input of rank at least 1");
        }

        long kk = OpsetOf(k) < 10 ? k.Int("k", -1) : k.In(1).Length == 1 ? k.In(1).GetI(0) : throw new EvalException("TopK's K must hold one value");
        int axis = KernelContext.Axis(k.Int("axis", -1), x.Rank);
        bool largest = k.Int("largest", 1) != 0;
        var (outer, n, inner) = Lanes(x.Shape, axis);
        if (kk < 0 || kk > n)
        {
            throw new EvalException($"TopK's k = {kk} is out of range for an axis of size {n}");
        }

        bool u64 = x.ElementType is IntegerType { IsUnsigned: true, Width: 64 };
        var d = x.AsDoubles();
        var raw = x.I;
        var shape = (long[])x.Shape.Clone();
        shape[axis] = kk;
        long total = outer * kk * inner;
        var idx = new long[total];
        var order = new long[n];
        Comparison<long> cmp = (a, b) =>
        {
            // NaN sorts as the largest value, as numpy does; equal values keep index order.
            int c = raw is not null ? (u64 ? ((ulong)raw[a]).CompareTo((ulong)raw[b]) : raw[a].CompareTo(raw[b])) : TotalCompare(d[a], d[b]);
            return c != 0 ? (largest ? -c : c) : a.CompareTo(b);
        };
        for (long o = 0; o < outer; o++)
        {
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                for (long j = 0; j < n; j++)
                {
                    order[j] = b + j * inner;
                }

                Array.Sort(order, cmp);
                for (long j = 0; j < kk; j++)
                {
                    idx[(o * kk + j) * inner + i] = order[j];
                }
            }
        }

        var ind = new long[total];
        for (long t = 0; t < total; t++)
        {
            ind[t] = idx[t] / inner % n;
        }

        var values = x.IsFloat
            ? NDArray.Create(x.ElementType, shape, idx.Select(t => d[t]).ToArray())
            : NDArray.Create(x.ElementType, shape, idx.Select(t => raw![t]).ToArray());
        return [values, NDArray.Create(IntegerType.I64, shape, ind)];
    }

    /// <summary>A total order on doubles with NaN above everything.</summary>
    private static int TotalCompare(double a, double b) =>
        double.IsNaN(a) ? (double.IsNaN(b) ? 0 : 1) : double.IsNaN(b) ? -1 : a.CompareTo(b);
}
