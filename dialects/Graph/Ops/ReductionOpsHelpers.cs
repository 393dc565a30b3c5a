namespace Tessera.Dialects.Graph;

/// <summary>Shared index arithmetic for the reduction, normalization and matrix kernels in <see cref="ReductionOps"/>.</summary>
internal static class ReductionOpsHelpers
{
    /// <summary>The opset a kernel should follow; 0 (not set, e.g. hand-built IR) means the newest.</summary>
    public static int OpsetOf(KernelContext k) => k.Opset <= 0 ? int.MaxValue : k.Opset;

    public static long Prod(IReadOnlyList<long> shape, int from, int to)
    {
        long n = 1;
        for (int d = from; d < to; d++)
        {
            n = checked(n * shape[d]);
        }

        return n;
    }

    /// <summary>Splits a shape at <paramref name="axis"/> into (outer, n, inner) so element (o, j, i) is at (o * n + j) * inner + i.</summary>
    public static (long Outer, long N, long Inner) Lanes(long[] shape, int axis) =>
        (Prod(shape, 0, axis), shape[axis], Prod(shape, axis + 1, shape.Length));

    /// <summary>Normalizes, checks and sorts a list of axes; duplicates are an error.</summary>
    public static bool[] AxisMask(IEnumerable<long> axes, int rank)
    {
        var mask = new bool[rank];
        foreach (var a in axes)
        {
            int d = KernelContext.Axis(a, rank);
            if (mask[d])
            {
                throw new EvalException($"axis {a} is given twice");
            }

            mask[d] = true;
        }

        return mask;
    }

    /// <summary>The shape after reducing the masked axes.</summary>
    public static long[] ReducedShape(long[] shape, bool[] mask, bool keepDims)
    {
        var r = new List<long>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (!mask[d])
            {
                r.Add(shape[d]);
            }
            else if (keepDims)
            {
                r.Add(1);
            }
        }

        return r.ToArray();
    }

    /// <summary>For each element of <paramref name="shape"/>, the flat index of its group after reducing the masked axes.</summary>
    public static long[] GroupIndex(long[] shape, bool[] mask, out long groups)
    {
        int rank = shape.Length;
        var outStrides = new long[rank];
        long acc = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            outStrides[d] = mask[d] ? 0 : acc;
            acc *= mask[d] ? 1 : shape[d];
        }

        groups = acc;
        long n = NDArray.Count(shape);
        var map = new long[n];
        var idx = new long[rank];
        long cur = 0;
        for (long k = 0; k < n; k++)
        {
            map[k] = cur;
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++;
                cur += outStrides[d];
                if (idx[d] < shape[d])
                {
                    break;
                }

                cur -= outStrides[d] * idx[d];
                idx[d] = 0;
            }
        }

        return map;
    }

    /// <summary>Broadcasts <paramref name="a"/> to <paramref name="shape"/> as doubles (unidirectional, numpy rules).</summary>
    public static double[] DoublesAs(NDArray a, long[] shape)
    {
        var target = NDArray.BroadcastShape(a.Shape, shape);
        if (!target.SequenceEqual(shape))
        {
            throw new EvalException($"shape [{string.Join(", ", a.Shape)}] does not broadcast to [{string.Join(", ", shape)}]");
        }

        if (a.Shape.SequenceEqual(shape))
        {
            return a.AsDoubles();
        }

        var src = a.AsDoubles();
        return NDArray.BroadcastIndex(a.Shape, shape).Select(i => src[i]).ToArray();
    }

    /// <summary>A float result of the kernel's declared result type where it has one, else of <paramref name="fallback"/>.</summary>
    public static Type OutType(KernelContext k, int i, Type fallback) => k.ResultElementType(i) ?? fallback;

    public static bool IsInt(NDArray a) => !a.IsFloat;
}
