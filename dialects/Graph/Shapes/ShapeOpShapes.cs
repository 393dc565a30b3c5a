using static Tessera.Dialects.Graph.ElementwiseShapes;
using static Tessera.Dialects.Graph.ShapeRules;

namespace Tessera.Dialects.Graph;

/// <summary>Shape rules of data-movement ops: transpose, reshape and friends, concat, gather, slice, split.</summary>
public static class ShapeOpShapes
{
    public static IEnumerable<(string IrName, ShapeFn Fn)> Rules =>
    [
        (Ir("Transpose"), Transpose),
        (Ir("Reshape"), c => c.In(0) is { } x && c.Ints(1) is { } shape ? One(ReshapeShape(x, shape, c.Int("allowzero", 0) != 0)) : null),
        (Ir("Unsqueeze"), Unsqueeze),
        (Ir("Squeeze"), Squeeze),
        (Ir("Flatten"), Flatten),
        (Ir("Concat"), Concat),
        (Ir("Gather"), Gather),
        (Ir("GatherElements"), c => One(c.In(1))),
        (Ir("Expand"), c => c.Ints(1) is { } shape ? One(Broadcast([c.In(0), Dims(shape)])) : null),
        (Ir("Shape"), Shape),
        (Ir("Size"), _ => One([])),
        (Ir("ConstantOfShape"), c => c.Ints(0) is { } shape ? One(Dims(shape)) : c.In(0) is [{ IsDynamic: false } n] ? One(UnknownDims(n.Size)) : null),
        (Ir("Range"), Range),
        (Ir("Tile"), c => c.In(0) is { } x && c.Ints(1) is { } reps && reps.Length == x.Length ? One(x.Select((d, k) => Times(d, reps[k])).ToArray()) : null),
        (Ir("Slice"), Slice),
        (Ir("Split"), Split),
    ];

    private static IReadOnlyList<Dim[]?>? Transpose(ShapeContext c)
    {
        if (c.In(0) is not { } x)
        {
            return null;
        }

        var perm = c.IntsAttr("perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(k => (long)k).ToArray();
        return perm.Length == x.Length && perm.All(p => p >= 0 && p < x.Length) ? One(perm.Select(p => x[p]).ToArray()) : null;
    }

    /// <summary>
    /// ONNX Reshape: 0 copies the input dim (unless allowzero), -1 is inferred. The -1 dim is the input's static
    /// product over the other dims' static product, times the input symbols the other dims do not account for:
    /// x: 1x{seq}x512 with [1, -1, 8, 64] gives 1x{seq}x8x64. Anything not computable is <c>?</c>.
    /// </summary>
    public static Dim[]? ReshapeShape(Dim[] x, long[] shape, bool allowZero)
    {
        var r = new Dim[shape.Length];
        int infer = -1;
        for (int k = 0; k < shape.Length; k++)
        {
            if (shape[k] == -1)
            {
                if (infer >= 0)
                {
                    return null;
                }

                infer = k;
            }
            else if (shape[k] == 0 && !allowZero)
            {
                if (k >= x.Length)
                {
                    return null;
                }

                r[k] = x[k];
            }
            else if (shape[k] < 0)
            {
                return null;
            }
            else
            {
                r[k] = shape[k];
            }
        }

        if (infer < 0)
        {
            return r;
        }

        r[infer] = InferredDim(x, r.Where((_, k) => k != infer).ToArray());
        return r;
    }

    private static Dim InferredDim(Dim[] input, Dim[] others)
    {
        long inStatic = 1, outStatic = 1;
        var symbols = new List<string>();
        foreach (var d in input)
        {
            if (!d.IsDynamic)
            {
                inStatic = checked(inStatic * d.Size);
            }
            else if (d.Symbol is { } s)
            {
                symbols.Add(s);
            }
            else
            {
                return Unknown;
            }
        }

        foreach (var d in others)
        {
            if (!d.IsDynamic)
            {
                outStatic = checked(outStatic * d.Size);
            }
            else if (d.Symbol is null || !symbols.Remove(d.Symbol))
            {
                return Unknown;
            }
        }

        if (outStatic == 0 || inStatic % outStatic != 0)
        {
            return Unknown;
        }

        long f = inStatic / outStatic;
        return symbols.Count switch
        {
            0 => new Dim(f),
            1 when f == 1 => Dim.Dynamic(symbols[0]),
            _ => Unknown,
        };
    }

    private static long[]? AxesOf(ShapeContext c, int input) => c.IntsAttr("axes") ?? (c.Has(input) ? c.Ints(input) : null);

    private static IReadOnlyList<Dim[]?>? Unsqueeze(ShapeContext c)
    {
        if (c.In(0) is not { } x || AxesOf(c, 1) is not { } axes || Axes(axes, x.Length + axes.Length) is not { } set || set.Count != axes.Length)
        {
            return null;
        }

        var r = new Dim[x.Length + axes.Length];
        for (int k = 0, src = 0; k < r.Length; k++)
        {
            r[k] = set.Contains(k) ? 1 : x[src++];
        }

        return One(r);
    }

    private static IReadOnlyList<Dim[]?>? Squeeze(ShapeContext c)
    {
        if (c.In(0) is not { } x)
        {
            return null;
        }

        if (AxesOf(c, 1) is { } axes)
        {
            return Axes(axes, x.Length) is { } set ? One(ShapeRules.Reduce(x, set, keep: false)) : null;
        }

        if (c.Has(1) && !c.HasAttr("axes"))
        {
            return null;
        }

        // No axes: every dim of size 1 goes; a dynamic dim might be 1, so the result is unknown.
        return x.Any(d => d.IsDynamic) ? null : One(x.Where(d => d.Size != 1).ToArray());
    }

    private static IReadOnlyList<Dim[]?>? Flatten(ShapeContext c)
    {
        if (c.In(0) is not { } x)
        {
            return null;
        }

        long axis = c.Int("axis", 1);
        axis = axis < 0 ? axis + x.Length : axis;
        if (axis < 0 || axis > x.Length)
        {
            return null;
        }

        return One([Product(x[..(int)axis]), Product(x[(int)axis..])]);
    }

    /// <summary>The product of dims: static if all are static; one dynamic dim times static 1s keeps that dim.</summary>
    private static Dim Product(Dim[] dims)
    {
        long f = 1;
        Dim? dynamic = null;
        foreach (var d in dims)
        {
            if (!d.IsDynamic)
            {
                f = checked(f * d.Size);
            }
            else if (dynamic is null)
            {
                dynamic = d;
            }
            else
            {
                return Unknown;
            }
        }

        return dynamic is { } dd ? Times(dd, f) : new Dim(f);
    }

    private static IReadOnlyList<Dim[]?>? Concat(ShapeContext c)
    {
        var ins = Enumerable.Range(0, c.NumInputs).Where(c.Has).Select(c.In).ToList();
        if (ins.Count == 0 || ins.Any(s => s is null) || ins.Any(s => s!.Length != ins[0]!.Length) || Axis(c.Int("axis", 0), ins[0]!.Length) is not { } axis)
        {
            return null;
        }

        var r = new Dim[ins[0]!.Length];
        for (int k = 0; k < r.Length; k++)
        {
            if (k == axis)
            {
                r[k] = ins.All(s => !s![k].IsDynamic) ? new Dim(ins.Sum(s => s![k].Size)) : ins.Count == 1 ? ins[0]![k] : Unknown;
            }
            else
            {
                // All inputs agree off the axis: take the most precise.
                r[k] = ins.Select(s => s![k]).OrderBy(d => d.IsDynamic ? d.Symbol is null ? 2 : 1 : 0).First();
            }
        }

        return One(r);
    }

    private static IReadOnlyList<Dim[]?>? Gather(ShapeContext c)
    {
        if (c.In(0) is not { } data || c.In(1) is not { } indices || Axis(c.Int("axis", 0), data.Length) is not { } axis)
        {
            return null;
        }

        return One([.. data[..axis], .. indices, .. data[(axis + 1)..]]);
    }

    private static IReadOnlyList<Dim[]?>? Shape(ShapeContext c)
    {
        if (c.In(0) is not { } x)
        {
            return One([Unknown]);
        }

        long start = c.Int("start", 0), end = c.Int("end", x.Length);
        start = Math.Clamp(start < 0 ? start + x.Length : start, 0, x.Length);
        end = Math.Clamp(end < 0 ? end + x.Length : end, 0, x.Length);
        return One([Math.Max(end - start, 0)]);
    }

    private static IReadOnlyList<Dim[]?>? Range(ShapeContext c)
    {
        if (c.Value(0) is { Length: 1 } s && c.Value(1) is { Length: 1 } l && c.Value(2) is { Length: 1 } d && d.GetF(0) != 0)
        {
            return One([Math.Max((long)Math.Ceiling((l.GetF(0) - s.GetF(0)) / d.GetF(0)), 0)]);
        }

        return One([Unknown]);
    }

    private static IReadOnlyList<Dim[]?>? Slice(ShapeContext c)
    {
        if (c.In(0) is not { } x)
        {
            return null;
        }

        bool fromAttrs = c.Opset is > 0 and < 10 || c.HasAttr("starts");
        var starts = fromAttrs ? c.IntsAttr("starts") : c.Ints(1);
        var ends = fromAttrs ? c.IntsAttr("ends") : c.Ints(2);
        var axes = fromAttrs ? c.IntsAttr("axes") : c.Has(3) ? c.Ints(3) : null;
        var steps = fromAttrs ? null : c.Has(4) ? c.Ints(4) : null;
        if (starts is null || ends is null || starts.Length != ends.Length || (!fromAttrs && c.Has(3) && axes is null) || (!fromAttrs && c.Has(4) && steps is null))
        {
            return null;
        }

        axes ??= Enumerable.Range(0, starts.Length).Select(k => (long)k).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (axes.Length != starts.Length || steps.Length != starts.Length)
        {
            return null;
        }

        var r = (Dim[])x.Clone();
        for (int k = 0; k < starts.Length; k++)
        {
            if (Axis(axes[k], x.Length) is not { } a || steps[k] == 0)
            {
                return null;
            }

            r[a] = SliceDim(x[a], starts[k], ends[k], steps[k]);
        }

        return One(r);
    }

    private static Dim SliceDim(Dim d, long start, long end, long step)
    {
        if (d.IsDynamic)
        {
            // The whole axis, forwards: the dim is unchanged.
            return start == 0 && end >= int.MaxValue && step == 1 ? d : Unknown;
        }

        long n = d.Size;
        long s = start < 0 ? start + n : start, e = end < 0 ? end + n : end;
        if (step > 0)
        {
            s = Math.Clamp(s, 0, n);
            e = Math.Clamp(e, 0, n);
            return Math.Max((e - s + step - 1) / step, 0);
        }

        s = Math.Clamp(s, -1, n - 1);
        e = Math.Clamp(e, -1, n - 1);
        return Math.Max((s - e + (-step) - 1) / -step, 0);
    }

    private static IReadOnlyList<Dim[]?>? Split(ShapeContext c)
    {
        if (c.In(0) is not { } x || Axis(c.Int("axis", 0), x.Length) is not { } axis || c.NumResults == 0)
        {
            return null;
        }

        var split = c.IntsAttr("split") ?? (c.Has(1) ? c.Ints(1) : null);
        if (c.Has(1) && split is null)
        {
            return null;
        }

        var r = new List<Dim[]?>();
        for (int i = 0; i < c.NumResults; i++)
        {
            var s = (Dim[])x.Clone();
            if (split is not null)
            {
                if (split.Length != c.NumResults)
                {
                    return null;
                }

                s[axis] = split[i];
            }
            else if (x[axis].IsDynamic)
            {
                s[axis] = Unknown;
            }
            else
            {
                // Equal parts; with num_outputs the last part may be smaller.
                long n = x[axis].Size, part = (n + c.NumResults - 1) / c.NumResults;
                s[axis] = Math.Max(Math.Min(part, n - (part * i)), 0);
            }

            r.Add(s);
        }

        return r;
    }
}
