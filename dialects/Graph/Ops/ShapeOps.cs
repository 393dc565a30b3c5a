using static Tessera.Dialects.Graph.ShapeOpsHelpers;

namespace Tessera.Dialects.Graph;

/// <summary>Reference kernels of the ONNX shape, indexing and data-movement ops.</summary>
public static partial class ShapeOps
{
    public static IEnumerable<GraphOpInfo> Ops =>
    [
        GraphOpInfo.Onnx("Reshape", Reshape) with { Summary = "reshapes a tensor (0 copies a dimension unless allowzero, -1 is inferred)" },
        GraphOpInfo.Onnx("Transpose", Transpose) with { Summary = "permutes dimensions (default: reverses them)" },
        GraphOpInfo.Onnx("Concat", Concat) with { Summary = "concatenates tensors along an axis" },
        GraphOpInfo.Onnx("Split", Split) with { NumResults = 2, Summary = "splits a tensor along an axis into as many parts as the op has results" },
        GraphOpInfo.Onnx("Slice", Slice) with { Summary = "strided slice with negative and clamped indices" },
        GraphOpInfo.Onnx("Gather", Gather) with { Summary = "gathers slices along an axis by index" },
        GraphOpInfo.Onnx("GatherElements", GatherElements, since: 11) with { Summary = "gathers single elements along an axis by an index tensor of the output's shape" },
        GraphOpInfo.Onnx("GatherND", GatherND, since: 11) with { Summary = "gathers slices by index tuples, with leading batch dimensions" },
        GraphOpInfo.Onnx("ScatterElements", ScatterElements, since: 11) with { Summary = "writes updates into a copy of data at per-element indices along an axis, with an optional reduction" },
        GraphOpInfo.Onnx("ScatterND", ScatterND, since: 11) with { Summary = "writes update slices into a copy of data at index tuples, with an optional reduction" },
        GraphOpInfo.Onnx("Scatter", ScatterElements, since: 9) with { Summary = "deprecated alias of ScatterElements" },
        GraphOpInfo.Onnx("Expand", Expand, since: 8) with { Summary = "broadcasts a tensor against a shape (bidirectionally)" },
        GraphOpInfo.Onnx("Tile", Tile) with { Summary = "repeats a tensor along each dimension" },
        GraphOpInfo.Onnx("Pad", Pad) with { Summary = "pads (or crops, for negative pads) with a constant, reflection, edge or wrap" },
        GraphOpInfo.Onnx("Squeeze", Squeeze) with { Summary = "removes dimensions of size 1" },
        GraphOpInfo.Onnx("Unsqueeze", Unsqueeze) with { Summary = "inserts dimensions of size 1" },
        GraphOpInfo.Onnx("Flatten", Flatten) with { Summary = "reshapes to 2-D around an axis" },
        GraphOpInfo.Onnx("Shape", Shape) with { ResultType = Rules.I64, Summary = "the shape of a tensor (optionally a start..end part) as i64" },
        GraphOpInfo.Onnx("Size", Size) with { ResultType = Rules.I64, Summary = "the element count of a tensor as an i64 scalar" },
        GraphOpInfo.Onnx("Range", Range, since: 11) with { Summary = "start, start+delta, ... up to limit (exclusive)" },
        GraphOpInfo.Onnx("ConstantOfShape", ConstantOfShape, since: 9) with { ResultType = ConstantOfShapeType, Summary = "a tensor of a given shape filled with the value attribute (default f32 0)" },
        GraphOpInfo.Onnx("Identity", Identity) with { Summary = "returns its input" },
        GraphOpInfo.Onnx("Trilu", Trilu, since: 14) with { Summary = "keeps the upper or lower triangle of the last two dimensions" },
        GraphOpInfo.Onnx("OneHot", OneHot, since: 9) with { ResultType = Rules.SameAsInput(2), Summary = "one-hot encoding with off/on values along a new axis" },
        GraphOpInfo.Onnx("NonZero", NonZero, since: 9) with { ResultType = Rules.I64, Summary = "the indices of non-zero elements, one row per dimension" },
        GraphOpInfo.Onnx("DepthToSpace", DepthToSpace) with { Summary = "moves channel blocks into spatial blocks (DCR or CRD order)" },
        GraphOpInfo.Onnx("SpaceToDepth", SpaceToDepth) with { Summary = "moves spatial blocks into channels" },
        GraphOpInfo.Onnx("Compress", Compress, since: 9) with { Summary = "selects slices along an axis (or of the flattened tensor) where a condition is true" },
        GraphOpInfo.Onnx("EyeLike", EyeLike, since: 9) with { ResultType = Rules.FromDtypeAttr("dtype", Rules.SameAsInput(0)), Summary = "a 2-D tensor with ones on the k-th diagonal" },
        GraphOpInfo.Onnx("Dropout", Dropout) with { NumResults = 2, ResultType = DropoutType, Summary = "inference dropout: the input, and optionally an all-true mask" },
        GraphOpInfo.Onnx("ReverseSequence", ReverseSequence, since: 10) with { Summary = "reverses the first seq_len[b] steps of each batch entry along the time axis" },
    ];

    private static IReadOnlyList<NDArray> One(NDArray a) => [a];

    private static IReadOnlyList<NDArray> Reshape(KernelContext k)
    {
        var x = k.In(0);
        long[] spec = k.Opset is > 0 and < 5 ? k.Ints("shape") ?? throw new EvalException("attribute 'shape' is required") : Ints(k.In(1));
        bool allowZero = k.Int("allowzero", 0) != 0;
        var shape = new long[spec.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < spec.Length; i++)
        {
            long d = spec[i];
            if (d == -1)
            {
                if (infer >= 0)
                {
                    throw new EvalException("reshape: at most one dimension may be -1");
                }

                infer = i;
                continue;
            }

            if (d == 0 && !allowZero)
            {
                d = i < x.Rank ? x.Shape[i] : throw new EvalException($"reshape: dimension {i} is 0 (copy) but the input has rank {x.Rank}");
            }
            else if (d < 0)
            {
                throw new EvalException($"reshape: invalid dimension {d}");
            }

            shape[i] = d;
            known = checked(known * d);
        }

        if (infer >= 0)
        {
            if (known == 0 || x.Length % known != 0)
            {
                throw new EvalException($"reshape: cannot infer the -1 dimension of {ShapeText(spec)} for {x.Length} elements");
            }

            shape[infer] = x.Length / known;
        }

        if (NDArray.Count(shape) != x.Length)
        {
            throw new EvalException($"reshape: input of shape {ShapeText(x.Shape)} cannot become {ShapeText(shape)}");
        }

        return One(x.Reshape(shape));
    }

    private static IReadOnlyList<NDArray> Transpose(KernelContext k)
    {
        var x = k.In(0);
        var permAttr = k.Ints("perm");
        var perm = permAttr is null ? Enumerable.Range(0, x.Rank).Reverse().ToArray() : permAttr.Select(p => KernelContext.Axis(p, x.Rank)).ToArray();
        if (perm.Length != x.Rank || perm.Distinct().Count() != perm.Length)
        {
            throw new EvalException($"transpose: perm {ShapeText(permAttr ?? [])} is not a permutation of rank {x.Rank}");
        }

        return One(Permute(x, perm));
    }

    private static IReadOnlyList<NDArray> Concat(KernelContext k)
    {
        var xs = Enumerable.Range(0, k.NumInputs).Select(k.In).ToList();
        if (xs.Count == 0)
        {
            throw new EvalException("concat needs at least one input");
        }

        var first = xs[0];
        int rank = first.Rank;
        int axis = KernelContext.Axis(k.OptInt("axis") ?? (k.Opset is > 0 and < 4 ? 1 : throw new EvalException("attribute 'axis' is required")), rank);
        var outShape = (long[])first.Shape.Clone();
        outShape[axis] = 0;
        foreach (var x in xs)
        {
            if (x.Rank != rank || Enumerable.Range(0, rank).Any(d => d != axis && x.Shape[d] != first.Shape[d]))
            {
                throw new EvalException($"concat: shapes {ShapeText(first.Shape)} and {ShapeText(x.Shape)} differ outside axis {axis}");
            }

            if (x.ElementType != first.ElementType)
            {
                throw new EvalException($"concat: element types {first.ElementType} and {x.ElementType} differ");
            }

            outShape[axis] += x.Shape[axis];
        }

        long outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= outShape[d];
        }

        long total = NDArray.Count(outShape);
        var fd = first.IsFloat ? new double[total] : null;
        var id = first.IsFloat ? null : new long[total];
        long pos = 0;
        for (long o = 0; o < outer; o++)
        {
            foreach (var x in xs)
            {
                long chunk = outer == 0 ? 0 : x.Length / outer;
                if (fd is not null)
                {
                    Array.Copy(x.F!, o * chunk, fd, pos, chunk);
                }
                else
                {
                    Array.Copy(x.I!, o * chunk, id!, pos, chunk);
                }

                pos += chunk;
            }
        }

        return One(fd is not null ? NDArray.Create(first.ElementType, outShape, fd) : NDArray.Create(first.ElementType, outShape, id!));
    }

    /// <summary>The part [start, start+len) of <paramref name="x"/> along <paramref name="axis"/>.</summary>
    private static NDArray SliceAxis(NDArray x, int axis, long start, long len)
    {
        var shape = (long[])x.Shape.Clone();
        shape[axis] = len;
        long outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        long inner = 1;
        for (int d = axis + 1; d < x.Rank; d++)
        {
            inner *= x.Shape[d];
        }

        var map = new long[NDArray.Count(shape)];
        long p = 0;
        for (long o = 0; o < outer; o++)
        {
            long baseIdx = (o * x.Shape[axis] + start) * inner;
            for (long q = 0; q < len * inner; q++)
            {
                map[p++] = baseIdx + q;
            }
        }

        return Take(x, shape, map);
    }

    private static IReadOnlyList<NDArray> Split(KernelContext k)
    {
        var x = k.In(0);
        int axis = KernelContext.Axis(k.Int("axis", 0), x.Rank);
        long dim = x.Shape[axis];
        int n = k.Op.NumResults;
        long[]? split = k.Input(1) is { } s ? Ints(s) : k.Opset < 13 ? k.Ints("split") : null;
        if (split is null)
        {
            if (k.OptInt("num_outputs") is long no && no != n)
            {
                throw new EvalException($"split: num_outputs is {no} but the op has {n} results");
            }

            split = new long[n];
            if (k.Opset >= 18)
            {
                // Ceil-sized chunks; the last one takes what is left.
                long chunk = n == 0 ? 0 : (dim + n - 1) / n;
                for (int i = 0; i < n; i++)
                {
                    split[i] = Math.Max(0, Math.Min(chunk, dim - (i * chunk)));
                }
            }
            else
            {
                if (n == 0 || dim % n != 0)
                {
                    throw new EvalException($"split: dimension {dim} does not split evenly into {n} parts");
                }

                Array.Fill(split, dim / n);
            }
        }

        if (split.Length != n || split.Any(v => v < 0) || split.Sum() != dim)
        {
            throw new EvalException($"split: sizes {ShapeText(split)} do not split dimension {dim} into {n} results");
        }

        var outs = new List<NDArray>();
        long start = 0;
        foreach (var len in split)
        {
            outs.Add(SliceAxis(x, axis, start, len));
            start += len;
        }

        return outs;
    }

    private static long[]? AxesArg(KernelContext k, int inputIndex, int sinceInput)
    {
        if (k.Opset >= sinceInput || (k.Opset == 0 && !k.Has("axes")))
        {
            return k.Input(inputIndex) is { } a ? Ints(a) : null;
        }

        return k.Ints("axes");
    }

    private static IReadOnlyList<NDArray> Squeeze(KernelContext k)
    {
        var x = k.In(0);
        var axesArg = AxesArg(k, 1, 13);
        var drop = new bool[x.Rank];
        if (axesArg is null)
        {
            for (int d = 0; d < x.Rank; d++)
            {
                drop[d] = x.Shape[d] == 1;
            }
        }
        else
        {
            foreach (var a in axesArg)
            {
                int d = KernelContext.Axis(a, x.Rank);
                if (x.Shape[d] != 1)
                {
                    throw new EvalException($"squeeze: dimension {d} of shape {ShapeText(x.Shape)} is not 1");
                }

                drop[d] = true;
            }
        }

        return One(x.Reshape(x.Shape.Where((_, d) => !drop[d]).ToArray()));
    }

    private static IReadOnlyList<NDArray> Unsqueeze(KernelContext k)
    {
        var x = k.In(0);
        var axesArg = AxesArg(k, 1, 13) ?? throw new EvalException("unsqueeze: axes are required");
        int rank = x.Rank + axesArg.Length;
        var insert = new bool[rank];
        foreach (var a in axesArg)
        {
            int d = KernelContext.Axis(a, rank);
            if (insert[d])
            {
                throw new EvalException($"unsqueeze: axis {a} is repeated");
            }

            insert[d] = true;
        }

        var shape = new long[rank];
        int src = 0;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = insert[d] ? 1 : x.Shape[src++];
        }

        return One(x.Reshape(shape));
    }

    private static IReadOnlyList<NDArray> Flatten(KernelContext k)
    {
        var x = k.In(0);
        long axis = k.Int("axis", 1);
        if (axis < 0)
        {
            axis += x.Rank;
        }

        if (axis < 0 || axis > x.Rank)
        {
            throw new EvalException($"flatten: axis {k.Int("axis", 1)} is out of range for rank {x.Rank}");
        }

        long outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        return One(x.Reshape([outer, outer == 0 ? NDArray.Count(x.Shape.Skip((int)axis).ToArray()) : x.Length / outer]));
    }

    private static IReadOnlyList<NDArray> Shape(KernelContext k) => One(ShapeOf(k.In(0).Shape, k.Int("start", 0), k.OptInt("end")));

    /// <summary>The i64 tensor of dims [start, end) of <paramref name="shape"/> (negative bounds count from the end).</summary>
    internal static NDArray ShapeOf(IReadOnlyList<long> shape, long start, long? endOrNull)
    {
        long r = shape.Count, end = endOrNull ?? r;
        start = Math.Clamp(start < 0 ? start + r : start, 0, r);
        end = Math.Clamp(end < 0 ? end + r : end, 0, r);
        var dims = shape.Skip((int)start).Take((int)Math.Max(0, end - start)).ToArray();
        return NDArray.Create(IntegerType.I64, [dims.Length], dims);
    }

    private static IReadOnlyList<NDArray> Size(KernelContext k) => One(NDArray.Create(IntegerType.I64, [], [k.In(0).Length]));

    private static IReadOnlyList<NDArray> Identity(KernelContext k) => One(k.In(0));

    private static IReadOnlyList<NDArray> Expand(KernelContext k)
    {
        var x = k.In(0);
        var shape = NDArray.BroadcastShape(x.Shape, Ints(k.In(1)));
        return One(x.BroadcastTo(shape));
    }

    private static IReadOnlyList<NDArray> Tile(KernelContext k)
    {
        var x = k.In(0);
        var reps = Ints(k.In(1));
        if (reps.Length != x.Rank || reps.Any(r => r < 0))
        {
            throw new EvalException($"tile: repeats {ShapeText(reps)} do not fit rank {x.Rank}");
        }

        var shape = x.Shape.Select((d, i) => d * reps[i]).ToArray();
        var strides = NDArray.Strides(x.Shape);
        long n = NDArray.Count(shape);
        var map = new long[n];
        var idx = new long[shape.Length];
        for (long e = 0; e < n; e++)
        {
            long src = 0;
            for (int d = 0; d < idx.Length; d++)
            {
                src += idx[d] % x.Shape[d] * strides[d];
            }

            map[e] = src;
            Next(idx, shape);
        }

        return One(Take(x, shape, map));
    }
}
