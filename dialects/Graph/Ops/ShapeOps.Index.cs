using static Tessera.Dialects.Graph.ShapeOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class ShapeOps
{
    private static IReadOnlyList<NDArray> Slice(KernelContext k)
    {
        var x = k.In(0);
        int r = x.Rank;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (k.Opset is > 0 and < 10 || (k.Opset == 0 && k.Has("starts")))
        {
            starts = k.Ints("starts") ?? throw new EvalException("attribute 'starts' is required");
            ends = k.Ints("ends") ?? throw new EvalException("attribute 'ends' is required");
            axes = k.Ints("axes");
        }
        else
        {
            starts = Ints(k.In(1));
            ends = Ints(k.In(2));
            axes = k.Input(3) is { } a ? Ints(a) : null;
            steps = k.Input(4) is { } s ? Ints(s) : null;
        }

        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw new EvalException("slice: starts, ends, axes and steps must have the same length");
        }

        var st = new long[r];
        var step = Enumerable.Repeat(1L, r).ToArray();
        var shape = (long[])x.Shape.Clone();
        var seen = new bool[r];
        for (int i = 0; i < starts.Length; i++)
        {
            int d = KernelContext.Axis(axes[i], r);
            if (seen[d])
            {
                throw new EvalException($"slice: axis {axes[i]} is repeated");
            }

            seen[d] = true;
            long dim = x.Shape[d], s = starts[i], e = ends[i], p = steps[i];
            if (p == 0)
            {
                throw new EvalException("slice: step must not be 0");
            }

            s = s < 0 ? s + dim : s;
            e = e < 0 ? e + dim : e;
            long count;
            if (p > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
                count = e > s ? ((e - s - 1) / p) + 1 : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                count = s > e ? ((s - e - 1) / -p) + 1 : 0;
            }

            st[d] = s;
            step[d] = p;
            shape[d] = count;
        }

        var strides = NDArray.Strides(x.Shape);
        long n = NDArray.Count(shape);
        var map = new long[n];
        var idx = new long[r];
        for (long e = 0; e < n; e++)
        {
            long src = 0;
            for (int d = 0; d < r; d++)
            {
                src += (st[d] + (idx[d] * step[d])) * strides[d];
            }

            map[e] = src;
            Next(idx, shape);
        }

        return One(Take(x, shape, map));
    }

    private static IReadOnlyList<NDArray> Gather(KernelContext k)
    {
        var x = k.In(0);
        var ind = k.In(1);
        int axis = KernelContext.Axis(k.Int("axis", 0), x.Rank);
        var idx = Ints(ind);
        long dim = x.Shape[axis];
        var shape = x.Shape.Take(axis).Concat(ind.Shape).Concat(x.Shape.Skip(axis + 1)).ToArray();
        long outer = NDArray.Count(x.Shape.Take(axis).ToArray()), inner = NDArray.Count(x.Shape.Skip(axis + 1).ToArray());
        var map = new long[NDArray.Count(shape)];
        long p = 0;
        for (long o = 0; o < outer; o++)
        {
            for (long j = 0; j < idx.LongLength; j++)
            {
                long baseIdx = ((o * dim) + Index(idx[j], dim, "gather")) * inner;
                for (long q = 0; q < inner; q++)
                {
                    map[p++] = baseIdx + q;
                }
            }
        }

        return One(Take(x, shape, map));
    }

    private static IReadOnlyList<NDArray> GatherElements(KernelContext k)
    {
        var x = k.In(0);
        var ind = k.In(1);
        int axis = KernelContext.Axis(k.Int("axis", 0), x.Rank);
        if (ind.Rank != x.Rank)
        {
            throw new EvalException($"gather_elements: indices of rank {ind.Rank} for data of rank {x.Rank}");
        }

        var idx = Ints(ind);
        var strides = NDArray.Strides(x.Shape);
        var map = new long[idx.LongLength];
        var pos = new long[ind.Rank];
        for (long e = 0; e < idx.LongLength; e++)
        {
            long src = 0;
            for (int d = 0; d < pos.Length; d++)
            {
                long c = d == axis ? Index(idx[e], x.Shape[d], "gather_elements") : pos[d];
                if (c >= x.Shape[d])
                {
                    throw new EvalException($"gather_elements: indices shape {ShapeText(ind.Shape)} exceeds data shape {ShapeText(x.Shape)}");
                }

                src += c * strides[d];
            }

            map[e] = src;
            Next(pos, ind.Shape);
        }

        return One(Take(x, (long[])ind.Shape.Clone(), map));
    }

    /// <summary>
    /// Shared index walk of GatherND and ScatterND: for each index tuple, the flat data offset of the slice it
    /// names (slices are <c>sliceSize</c> contiguous elements).
    /// </summary>
    private static long[] TupleOffsets(NDArray x, NDArray ind, int batchDims, string op, out long sliceSize)
    {
        int r = x.Rank, q = ind.Rank;
        if (q < 1)
        {
            throw new EvalException($"{op}: indices must have rank at least 1");
        }

        long m = ind.Shape[q - 1];
        if (batchDims < 0 || batchDims >= q || m < 1 || m > r - batchDims)
        {
            throw new EvalException($"{op}: indices of shape {ShapeText(ind.Shape)} do not fit data of shape {ShapeText(x.Shape)} with batch_dims {batchDims}");
        }

        for (int d = 0; d < batchDims; d++)
        {
            if (ind.Shape[d] != x.Shape[d])
            {
                throw new EvalException($"{op}: batch dimension {d} differs between data {ShapeText(x.Shape)} and indices {ShapeText(ind.Shape)}");
            }
        }

        var idx = Ints(ind);
        var strides = NDArray.Strides(x.Shape);
        sliceSize = NDArray.Count(x.Shape.Skip(batchDims + (int)m).ToArray());
        long batchCount = NDArray.Count(ind.Shape.Take(batchDims).ToArray());
        long perBatch = NDArray.Count(ind.Shape.Skip(batchDims).Take(q - 1 - batchDims).ToArray());
        long batchStride = batchDims == 0 ? 0 : strides[batchDims - 1];
        var offsets = new long[batchCount * perBatch];
        for (long b = 0; b < batchCount; b++)
        {
            for (long t = 0; t < perBatch; t++)
            {
                long tuple = (b * perBatch) + t;
                long off = b * batchStride;
                for (int j = 0; j < m; j++)
                {
                    int d = batchDims + j;
                    off += Index(idx[(tuple * m) + j], x.Shape[d], op) * strides[d];
                }

                offsets[tuple] = off;
            }
        }

        return offsets;
    }

    private static IReadOnlyList<NDArray> GatherND(KernelContext k)
    {
        var x = k.In(0);
        var ind = k.In(1);
        int b = (int)k.Int("batch_dims", 0);
        var offsets = TupleOffsets(x, ind, b, "gather_nd", out long slice);
        long m = ind.Shape[^1];
        var shape = ind.Shape.Take(ind.Rank - 1).Concat(x.Shape.Skip(b + (int)m)).ToArray();
        var map = new long[offsets.LongLength * slice];
        for (long t = 0; t < offsets.LongLength; t++)
        {
            for (long s = 0; s < slice; s++)
            {
                map[(t * slice) + s] = offsets[t] + s;
            }
        }

        return One(Take(x, shape, map));
    }

    /// <summary>Applies updates[e] to the copy of data at flat position target(e), under a reduction.</summary>
    private static NDArray ScatterInto(NDArray x, NDArray upd, string reduction, Func<long, long> target)
    {
        if (upd.ElementType != x.ElementType)
        {
            throw new EvalException($"scatter: updates of {upd.ElementType} for data of {x.ElementType}");
        }

        var res = Copy(x);
        if (res.F is { } f)
        {
            var u = upd.F!;
            for (long e = 0; e < u.LongLength; e++)
            {
                long t = target(e);
                f[t] = ShapeOpsHelpers.Reduce(reduction, f[t], u[e]);
            }

            return NDArray.Create(x.ElementType, res.Shape, f);
        }

        var iu = upd.I!;
        var id = res.I!;
        bool unsigned = x.ElementType is IntegerType { IsUnsigned: true };
        for (long e = 0; e < iu.LongLength; e++)
        {
            long t = target(e);
            id[t] = ShapeOpsHelpers.Reduce(reduction, id[t], iu[e], unsigned);
        }

        return NDArray.Create(x.ElementType, res.Shape, id);
    }

    private static IReadOnlyList<NDArray> ScatterElements(KernelContext k)
    {
        var x = k.In(0);
        var ind = k.In(1);
        var upd = k.In(2);
        int axis = KernelContext.Axis(k.Int("axis", 0), x.Rank);
        if (ind.Rank != x.Rank || !ind.Shape.SequenceEqual(upd.Shape))
        {
            throw new EvalException($"scatter_elements: indices {ShapeText(ind.Shape)} and updates {ShapeText(upd.Shape)} must match and have the rank of data {ShapeText(x.Shape)}");
        }

        var idx = Ints(ind);
        var strides = NDArray.Strides(x.Shape);
        var targets = new long[idx.LongLength];
        var pos = new long[ind.Rank];
        for (long e = 0; e < idx.LongLength; e++)
        {
            long t = 0;
            for (int d = 0; d < pos.Length; d++)
            {
                long c = d == axis ? Index(idx[e], x.Shape[d], "scatter_elements") : pos[d];
                if (c >= x.Shape[d])
                {
                    throw new EvalException($"scatter_elements: indices shape {ShapeText(ind.Shape)} exceeds data shape {ShapeText(x.Shape)}");
                }

                t += c * strides[d];
            }

            targets[e] = t;
            Next(pos, ind.Shape);
        }

        return One(ScatterInto(x, upd, Reduction(k), e => targets[e]));
    }

    private static IReadOnlyList<NDArray> ScatterND(KernelContext k)
    {
        var x = k.In(0);
        var ind = k.In(1);
        var upd = k.In(2);
        var offsets = TupleOffsets(x, ind, 0, "scatter_nd", out long slice);
        var want = ind.Shape.Take(ind.Rank - 1).Concat(x.Shape.Skip((int)ind.Shape[^1])).ToArray();
        if (!upd.Shape.SequenceEqual(want))
        {
            throw new EvalException($"scatter_nd: updates have shape {ShapeText(upd.Shape)} but should have {ShapeText(want)}");
        }

        return One(ScatterInto(x, upd, Reduction(k), e => offsets[e / slice] + (e % slice)));
    }

    private static IReadOnlyList<NDArray> Compress(KernelContext k)
    {
        var x = k.In(0);
        var cond = Ints(k.In(1));
        long? axisAttr = k.OptInt("axis");
        if (axisAttr is null)
        {
            x = x.Reshape([x.Length]);
        }

        int axis = axisAttr is long a ? KernelContext.Axis(a, x.Rank) : 0;
        long dim = x.Shape[axis];
        var keep = new List<long>();
        for (long i = 0; i < cond.LongLength; i++)
        {
            if (cond[i] != 0)
            {
                keep.Add(i < dim ? i : throw new EvalException($"compress: condition of length {cond.LongLength} selects beyond dimension {dim}"));
            }
        }

        var shape = (long[])x.Shape.Clone();
        shape[axis] = keep.Count;
        long outer = NDArray.Count(x.Shape.Take(axis).ToArray()), inner = NDArray.Count(x.Shape.Skip(axis + 1).ToArray());
        var map = new long[NDArray.Count(shape)];
        long p = 0;
        for (long o = 0; o < outer; o++)
        {
            foreach (var j in keep)
            {
                for (long q = 0; q < inner; q++)
                {
                    map[p++] = (((o * dim) + j) * inner) + q;
                }
            }
        }

        return One(Take(x, shape, map));
    }

    private static IReadOnlyList<NDArray> NonZero(KernelContext k)
    {
        var x = k.In(0);
        var shape = x.Rank == 0 ? [1L] : x.Shape;
        var vals = x.AsDoubles();
        var hits = new List<long>();
        for (long e = 0; e < vals.LongLength; e++)
        {
            if (vals[e] != 0)
            {
                hits.Add(e);
            }
        }

        int r = shape.Length;
        var strides = NDArray.Strides(shape);
        var data = new long[r * hits.Count];
        for (int h = 0; h < hits.Count; h++)
        {
            long rem = hits[h];
            for (int d = 0; d < r; d++)
            {
                data[(d * hits.Count) + h] = rem / strides[d];
                rem %= strides[d];
            }
        }

        return One(NDArray.Create(IntegerType.I64, [r, hits.Count], data));
    }

    private static IReadOnlyList<NDArray> OneHot(KernelContext k)
    {
        var ind = k.In(0);
        long depth = ScalarOf(k.In(1), "one_hot depth").GetI(0);
        var values = k.In(2);
        if (values.Length != 2)
        {
            throw new EvalException("one_hot: values must hold [off, on]");
        }

        if (depth < 1)
        {
            throw new EvalException($"one_hot: depth {depth} must be positive");
        }

        int r = ind.Rank;
        long axis = k.Int("axis", -1);
        int ax = (int)(axis < 0 ? axis + r + 1 : axis);
        if (ax < 0 || ax > r)
        {
            throw new EvalException($"one_hot: axis {axis} is out of range for output rank {r + 1}");
        }

        var shape = ind.Shape.Take(ax).Append(depth).Concat(ind.Shape.Skip(ax)).ToArray();
        long outer = NDArray.Count(ind.Shape.Take(ax).ToArray()), inner = NDArray.Count(ind.Shape.Skip(ax).ToArray());
        var iv = ind.AsDoubles();
        var map = new long[NDArray.Count(shape)];
        long p = 0;
        for (long o = 0; o < outer; o++)
        {
            for (long d = 0; d < depth; d++)
            {
                for (long q = 0; q < inner; q++)
                {
                    long v = NDArray.SaturatingToLong(iv[(o * inner) + q]);
                    v = v < 0 ? v + depth : v;
                    map[p++] = v == d ? 1 : 0;
                }
            }
        }

        return One(Take(values, shape, map));
    }
}
