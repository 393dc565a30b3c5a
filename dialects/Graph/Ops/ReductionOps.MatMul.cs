using System.Numerics;
using static Tessera.Dialects.Graph.ReductionOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class ReductionOps
{
    private static IReadOnlyList<NDArray> MatMul(KernelContext k)
    {
        var a = k.In(0);
        var b = k.In(1);
        if (a.IsFloat || b.IsFloat)
        {
            var r = MatMulData(a.AsDoubles(), a.Shape, b.AsDoubles(), b.Shape, out var shape);
            return [NDArray.Create(a.ElementType, shape, r)];
        }
        else
        {
            var r = MatMulData(a.I!, a.Shape, b.I!, b.Shape, out var shape);
            return [NDArray.Create(a.ElementType, shape, r)];
        }
    }

    /// <summary>Numpy matmul: 1-D operands get a unit dimension that is dropped again; batch dimensions broadcast.</summary>
    private static T[] MatMulData<T>(T[] a, long[] aShape, T[] b, long[] bShape, out long[] outShape)
        where T : INumber<T>
    {
        if (aShape.Length == 0 || bShape.Length == 0)
        {
            throw new EvalException("MatMul operands must have rank at least 1");
        }

        bool aVec = aShape.Length == 1, bVec = bShape.Length == 1;
        var sa = aVec ? [1, aShape[0]] : aShape;
        var sb = bVec ? [bShape[0], 1] : bShape;
        long m = sa[^2], kk = sa[^1], k2 = sb[^2], n = sb[^1];
        if (kk != k2)
        {
            throw new EvalException($"MatMul shapes [{string.Join(", ", aShape)}] and [{string.Join(", ", bShape)}] do not match in the inner dimension");
        }

        var aBatch = sa[..^2];
        var bBatch = sb[..^2];
        var batch = NDArray.BroadcastShape(aBatch, bBatch);
        var aMap = NDArray.BroadcastIndex(aBatch, batch);
        var bMap = NDArray.BroadcastIndex(bBatch, batch);
        long batches = aMap.LongLength;
        var r = new T[checked(batches * m * n)];
        for (long t = 0; t < batches; t++)
        {
            long ao = aMap[t] * m * kk, bo = bMap[t] * kk * n, ro = t * m * n;
            if (r is double[] rd && a is double[] ad && b is double[] bd)
            {
                // Row-times-matrix with SIMD: each output row accumulates a[i,q]·b[q,:] in q order, so every
                // element sums its products in the same order as the scalar loop.
                // q outermost keeps row q of B in cache while every output row takes its share.
                for (long q = 0; q < kk; q++)
                {
                    var bRow = bd.AsSpan((int)(bo + q * n), (int)n);
                    for (long i = 0; i < m; i++)
                    {
                        var row = rd.AsSpan((int)(ro + i * n), (int)n);
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(bRow, ad[ao + i * kk + q], row, row);
                    }
                }

                continue;
            }

            for (long i = 0; i < m; i++)
            {
                for (long j = 0; j < n; j++)
                {
                    T s = T.Zero;
                    for (long q = 0; q < kk; q++)
                    {
                        s += a[ao + i * kk + q] * b[bo + q * n + j];
                    }

                    r[ro + i * n + j] = s;
                }
            }
        }

        var shape = batch.ToList();
        if (!aVec)
        {
            shape.Add(m);
        }

        if (!bVec)
        {
            shape.Add(n);
        }

        outShape = shape.ToArray();
        return r;
    }

    private static IReadOnlyList<NDArray> Gemm(KernelContext k)
    {
        var a = k.In(0);
        var b = k.In(1);
        var c = k.Input(2);
        if (a.Rank != 2 || b.Rank != 2)
        {
            throw new EvalException("Gemm's A and B must be matrices");
        }

        bool ta = k.Int("transA", 0) != 0, tb = k.Int("transB", 0) != 0;
        double alpha = k.Float("alpha", 1), beta = k.Float("beta", 1);
        long m = ta ? a.Shape[1] : a.Shape[0], kk = ta ? a.Shape[0] : a.Shape[1];
        long k2 = tb ? b.Shape[1] : b.Shape[0], n = tb ? b.Shape[0] : b.Shape[1];
        if (kk != k2)
        {
            throw new EvalException($"Gemm's A' has {kk} columns but B' has {k2} rows");
        }

        // Lay A' out as m×k and B' as k×n, then accumulate rows with SIMD in q order (as the scalar loop would),
        // q outermost so that row q of B stays in cache.
        var av = ta ? Transposed(a.AsDoubles(), kk, m) : a.AsDoubles();
        var bv = tb ? Transposed(b.AsDoubles(), n, kk) : b.AsDoubles();
        var r = new double[m * n];
        for (long q = 0; q < kk; q++)
        {
            var bRow = bv.AsSpan((int)(q * n), (int)n);
            for (long i = 0; i < m; i++)
            {
                var row = r.AsSpan((int)(i * n), (int)n);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(bRow, av[i * kk + q], row, row);
            }
        }

        // The common epilogue, alpha = beta = 1 with a bias vector of length n, adds the bias row by row.
        if (alpha == 1 && beta == 1 && c is not null && c.Length == n && c.IsFloat && (c.Rank == 1 || c.Shape[0] == 1))
        {
            for (long i = 0; i < m; i++)
            {
                var row = r.AsSpan((int)(i * n), (int)n);
                System.Numerics.Tensors.TensorPrimitives.Add(row, c.F!, row);
            }

            return [NDArray.Create(a.ElementType, [m, n], r)];
        }

        var cv = c is null ? null : DoublesAs(c, [m, n]);
        for (long i = 0; i < m; i++)
        {
            var row = r.AsSpan((int)(i * n), (int)n);
            for (long j = 0; j < n; j++)
            {
                row[(int)j] = alpha * row[(int)j] + (cv is null ? 0 : beta * cv[i * n + j]);
            }
        }

        return [NDArray.Create(a.ElementType, [m, n], r)];
    }

    /// <summary>The transpose of a rows×cols row-major matrix.</summary>
    private static double[] Transposed(double[] x, long rows, long cols)
    {
        var t = new double[x.LongLength];
        for (long i = 0; i < rows; i++)
        {
            for (long j = 0; j < cols; j++)
            {
                t[j * rows + i] = x[i * cols + j];
            }
        }

        return t;
    }

    private static IReadOnlyList<NDArray> MatMulInteger(KernelContext k)
    {
        var a = k.In(0);
        var b = k.In(1);
        var av = (long[])a.AsLongs().Clone();
        var bv = (long[])b.AsLongs().Clone();
        if (k.Input(2) is { } az)
        {
            SubtractZeroPoint(av, a.Shape, az, perRowOfA: true);
        }

        if (k.Input(3) is { } bz)
        {
            SubtractZeroPoint(bv, b.Shape, bz, perRowOfA: false);
        }

        var r = MatMulData(av, a.Shape, bv, b.Shape, out var shape);
        return [NDArray.Create(IntegerType.I32, shape, r)];
    }

    /// <summary>A's zero point is a scalar, one per row ([M]) or broadcast; B's a scalar, one per column ([N]) or broadcast.</summary>
    private static void SubtractZeroPoint(long[] v, long[] shape, NDArray zp, bool perRowOfA)
    {
        var z = zp.AsLongs();
        long[] zShape = zp.Length == 1 ? [] : zp.Rank == 1 && perRowOfA ? [zp.Shape[0], 1] : zp.Shape;
        if (shape.Length == 1 && zShape.Length > 0 && perRowOfA)
        {
            zShape = [zp.Length];
        }

        var map = NDArray.BroadcastIndex(zShape, shape);
        if (!NDArray.BroadcastShape(zShape, shape).SequenceEqual(shape))
        {
            throw new EvalException($"zero point of shape [{string.Join(", ", zp.Shape)}] does not fit an operand of shape [{string.Join(", ", shape)}]");
        }

        for (long i = 0; i < v.LongLength; i++)
        {
            v[i] -= z[map[i]];
        }
    }

    private static IReadOnlyList<NDArray> Einsum(KernelContext k)
    {
        var eq = k.Str("equation", "").Replace(" ", "");
        var inputs = Enumerable.Range(0, k.NumInputs).Select(k.In).ToList();
        var parts = eq.Split("->");
        var terms = parts[0].Split(',');
        if (terms.Length != inputs.Count || parts.Length > 2)
        {
            throw new EvalException($"Einsum equation '{eq}' does not fit {inputs.Count} input(s)");
        }

        // Labels: letters keep their char code (>= 'A'); ellipsis dimensions are 0..ell-1, right-aligned across inputs.
        var parsed = terms.Select(t => ParseTerm(t)).ToList();
        int ell = 0;
        for (int t = 0; t < terms.Length; t++)
        {
            if (parsed[t].HasEllipsis)
            {
                ell = Math.Max(ell, inputs[t].Rank - parsed[t].Letters.Count(c => c != '.'));
            }
        }

        var labels = new List<int[]>();
        var size = new Dictionary<int, long>();
        for (int t = 0; t < terms.Length; t++)
        {
            var (letters, hasEll) = parsed[t];
            int e = inputs[t].Rank - (letters.Length - (hasEll ? 1 : 0));
            if (e < 0 || (!hasEll && e != 0))
            {
                throw new EvalException($"Einsum term '{terms[t]}' does not fit an input of rank {inputs[t].Rank}");
            }

            var lab = new List<int>();
            foreach (var ch in letters)
            {
                if (ch == '.')
                {
                    lab.AddRange(Enumerable.Range(ell - e, e));
                }
                else
                {
                    lab.Add(ch);
                }
            }

            for (int d = 0; d < lab.Count; d++)
            {
                long s = inputs[t].Shape[d];
                if (size.TryGetValue(lab[d], out var old) && old != s)
                {
                    if (lab[d] >= ell || (old != 1 && s != 1))
                    {
                        throw new EvalException($"Einsum dimension sizes {old} and {s} for the same label disagree");
                    }

                    s = Math.Max(old, s);
                }

                size[lab[d]] = s;
            }

            labels.Add(lab.ToArray());
        }

        int[] outLabels;
        if (parts.Length == 2)
        {
            var (ol, _) = ParseTerm(parts[1]);
            outLabels = ol.SelectMany(ch => ch == '.' ? Enumerable.Range(0, ell) : [(int)ch]).ToArray();
        }
        else
        {
            var counts = labels.SelectMany(l => l).Where(l => l >= ell).GroupBy(l => l).Where(g => g.Count() == 1).Select(g => g.Key).Order();
            outLabels = Enumerable.Range(0, ell).Concat(counts).ToArray();
        }

        var sumLabels = size.Keys.Where(l => !outLabels.Contains(l)).Order().ToArray();
        var all = outLabels.Concat(sumLabels).ToArray();
        var dims = all.Select(l => size.TryGetValue(l, out var s) ? s : throw new EvalException($"Einsum output label '{(char)l}' is not in any input")).ToArray();

        // Per input, the stride each loop label contributes (repeated labels add up: diagonals; broadcast dims: 0).
        var strides = new long[inputs.Count][];
        for (int t = 0; t < inputs.Count; t++)
        {
            strides[t] = new long[all.Length];
            var st = NDArray.Strides(inputs[t].Shape);
            for (int d = 0; d < labels[t].Length; d++)
            {
                if (inputs[t].Shape[d] != 1 || size[labels[t][d]] == 1)
                {
                    strides[t][Array.IndexOf(all, labels[t][d])] += st[d];
                }
            }
        }

        var outShape = dims[..outLabels.Length];
        long outCount = NDArray.Count(outShape), inner = NDArray.Count(dims[outLabels.Length..]);
        bool isFloat = inputs.Any(x => x.IsFloat);
        var data = inputs.Select(x => x.AsDoubles()).ToArray();
        var ldata = isFloat ? null : inputs.Select(x => x.I!).ToArray();
        var rf = new double[outCount];
        var rl = new long[outCount];
        var idx = new long[all.Length];
        var offs = new long[inputs.Count];
        for (long o = 0; o < outCount; o++)
        {
            for (long s = 0; s < inner; s++)
            {
                double pf = 1;
                long pl = 1;
                for (int t = 0; t < inputs.Count; t++)
                {
                    if (isFloat)
                    {
                        pf *= data[t][offs[t]];
                    }
                    else
                    {
                        pl = unchecked(pl * ldata![t][offs[t]]);
                    }
                }

                rf[o] += pf;
                rl[o] = unchecked(rl[o] + pl);
                for (int d = all.Length - 1; d >= 0; d--)
                {
                    idx[d]++;
                    for (int t = 0; t < inputs.Count; t++)
                    {
                        offs[t] += strides[t][d];
                    }

                    if (idx[d] < dims[d])
                    {
                        break;
                    }

                    for (int t = 0; t < inputs.Count; t++)
                    {
                        offs[t] -= strides[t][d] * idx[d];
                    }

                    idx[d] = 0;
                }
            }
        }

        return [isFloat ? NDArray.Create(inputs[0].ElementType, outShape, rf) : NDArray.Create(inputs[0].ElementType, outShape, rl)];
    }

    /// <summary>A term's labels with "..." collapsed to one '.'.</summary>
    private static (string Letters, bool HasEllipsis) ParseTerm(string term)
    {
        bool hasEll = term.Contains("...");
        var s = term.Replace("...", ".");
        if (s.Count(c => c == '.') > 1 || s.Any(c => c != '.' && !char.IsAsciiLetter(c)))
        {
            throw new EvalException($"bad Einsum term '{term}'");
        }

        return (s, hasEll);
    }
}
