using static Tessera.Dialects.Graph.ShapeOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class ShapeOps
{
    private static IReadOnlyList<NDArray> Pad(KernelContext k)
    {
        var x = k.In(0);
        int r = x.Rank;
        string mode = k.Str("mode", "constant");
        long[] pads;
        long[]? axesArg = null;
        NDArray fill;
        if (k.Opset is > 0 and < 11 || (k.Opset == 0 && (k.Has("pads") || k.Has("paddings"))))
        {
            pads = k.Ints(k.Opset is > 0 and < 2 || !k.Has("pads") ? "paddings" : "pads") ?? throw new EvalException("attribute 'pads' is required");
            fill = NDArray.Scalar(x.ElementType, k.Float("value", 0));
        }
        else
        {
            pads = Ints(k.In(1));
            fill = k.Input(2) is { } cv && cv.Length > 0 ? cv : NDArray.Scalar(x.ElementType, 0);
            axesArg = k.Input(3) is { } a ? Ints(a) : null;
        }

        var axes = axesArg?.Select(a => KernelContext.Axis(a, r)).ToArray() ?? Enumerable.Range(0, r).ToArray();
        if (pads.Length != 2 * axes.Length)
        {
            throw new EvalException($"pad: {pads.Length} pads for {axes.Length} axes");
        }

        var before = new long[r];
        var after = new long[r];
        for (int i = 0; i < axes.Length; i++)
        {
            before[axes[i]] = pads[i];
            after[axes[i]] = pads[i + axes.Length];
        }

        // Negative pads crop first; the kept part [lo, lo+m) is then padded by the positive pads.
        var lo = new long[r];
        var m = new long[r];
        var pb = new long[r];
        var shape = new long[r];
        for (int d = 0; d < r; d++)
        {
            lo[d] = Math.Max(0, -before[d]);
            m[d] = x.Shape[d] - lo[d] - Math.Max(0, -after[d]);
            pb[d] = Math.Max(0, before[d]);
            shape[d] = m[d] + pb[d] + Math.Max(0, after[d]);
            if (m[d] < 0)
            {
                throw new EvalException($"pad: pads crop dimension {d} of shape {ShapeText(x.Shape)} below zero");
            }

            if (m[d] == 0 && shape[d] > 0 && mode != "constant")
            {
                throw new EvalException($"pad: mode '{mode}' cannot pad an empty dimension");
            }
        }

        if (mode is not ("constant" or "reflect" or "edge" or "wrap"))
        {
            throw new EvalException($"pad: unknown mode '{mode}'");
        }

        var strides = NDArray.Strides(x.Shape);
        long n = NDArray.Count(shape);
        var map = new long[n];
        var idx = new long[r];
        for (long e = 0; e < n; e++)
        {
            long src = 0;
            for (int d = 0; d < r && src >= 0; d++)
            {
                long j = idx[d] - pb[d];
                long md = m[d];
                if (j < 0 || j >= md)
                {
                    j = mode switch
                    {
                        "edge" => Math.Clamp(j, 0, md - 1),
                        "wrap" => ((j % md) + md) % md,
                        "reflect" => Reflect(j, md),
                        _ => -1,
                    };
                }

                src = j < 0 ? -1 : src + ((lo[d] + j) * strides[d]);
            }

            map[e] = src;
            Next(idx, shape);
        }

        return One(Take(x, shape, map, fill));
    }

    private static long Reflect(long j, long m)
    {
        if (m == 1)
        {
            return 0;
        }

        long p = 2 * (m - 1);
        j = ((j % p) + p) % p;
        return j >= m ? p - j : j;
    }

    private static IReadOnlyList<NDArray> Range(KernelContext k)
    {
        var s = ScalarOf(k.In(0), "range start");
        var l = ScalarOf(k.In(1), "range limit");
        var dl = ScalarOf(k.In(2), "range delta");
        if (s.IsFloat)
        {
            double start = s.F![0], limit = l.GetF(0), delta = dl.GetF(0);
            if (delta == 0 || double.IsNaN(delta))
            {
                throw new EvalException("range: delta must not be 0");
            }

            long n = (long)Math.Max(Math.Ceiling((limit - start) / delta), 0);
            var data = new double[n];
            for (long i = 0; i < n; i++)
            {
                data[i] = start + (i * delta);
            }

            return One(NDArray.Create(s.ElementType, [n], data));
        }

        long a = s.I![0], b = l.GetI(0), st = dl.GetI(0);
        if (st == 0)
        {
            throw new EvalException("range: delta must not be 0");
        }

        long diff = b - a;
        long count = st > 0 ? (diff <= 0 ? 0 : ((diff - 1) / st) + 1) : (diff >= 0 ? 0 : ((-diff - 1) / -st) + 1);
        var ints = new long[count];
        for (long i = 0; i < count; i++)
        {
            ints[i] = a + (i * st);
        }

        return One(NDArray.Create(s.ElementType, [count], ints));
    }

    private static readonly ElementTypeRule ConstantOfShapeType = (c, _) =>
        c.Attr("value") is DenseElementsAttr d ? d.ShapedType.ElementType : FloatType.F32;

    private static IReadOnlyList<NDArray> ConstantOfShape(KernelContext k)
    {
        var shape = Ints(k.In(0));
        var value = k.TensorAttr("value") ?? NDArray.Scalar(FloatType.F32, 0);
        if (value.Length != 1)
        {
            throw new EvalException("constant_of_shape: value must hold one element");
        }

        long n = NDArray.Count(shape);
        return One(Take(value, shape, new long[n]));
    }

    private static IReadOnlyList<NDArray> Trilu(KernelContext k)
    {
        var x = k.In(0);
        if (x.Rank < 2)
        {
            throw new EvalException("trilu: input must have rank at least 2");
        }

        long diag = k.Input(1) is { } kk ? ScalarOf(kk, "trilu k").GetI(0) : 0;
        bool upper = k.Int("upper", 1) != 0;
        long rows = x.Shape[^2], cols = x.Shape[^1];
        var map = new long[x.Length];
        for (long e = 0; e < x.Length; e++)
        {
            long j = e % cols, i = e / cols % rows;
            bool keep = upper ? j - i >= diag : j - i <= diag;
            map[e] = keep ? e : -1;
        }

        return One(Take(x, (long[])x.Shape.Clone(), map));
    }

    private static (long N, long C, long H, long W, long B) Nchw(KernelContext k, NDArray x, string op)
    {
        if (x.Rank != 4)
        {
            throw new EvalException($"{op}: input must have rank 4 but has shape {ShapeText(x.Shape)}");
        }

        long b = k.OptInt("blocksize") ?? throw new EvalException($"{op}: attribute 'blocksize' is required");
        if (b < 1)
        {
            throw new EvalException($"{op}: blocksize {b} must be positive");
        }

        return (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], b);
    }

    private static IReadOnlyList<NDArray> DepthToSpace(KernelContext k)
    {
        var x = k.In(0);
        var (n, c, h, w, b) = Nchw(k, x, "depth_to_space");
        if (c % (b * b) != 0)
        {
            throw new EvalException($"depth_to_space: channels {c} are not divisible by blocksize² {b * b}");
        }

        long c2 = c / (b * b);
        string mode = k.Str("mode", "DCR");
        NDArray t = mode switch
        {
            "DCR" => Permute(x.Reshape([n, b, b, c2, h, w]), [0, 3, 4, 1, 5, 2]),
            "CRD" => Permute(x.Reshape([n, c2, b, b, h, w]), [0, 1, 4, 2, 5, 3]),
            _ => throw new EvalException($"depth_to_space: unknown mode '{mode}'"),
        };
        return One(t.Reshape([n, c2, h * b, w * b]));
    }

    private static IReadOnlyList<NDArray> SpaceToDepth(KernelContext k)
    {
        var x = k.In(0);
        var (n, c, h, w, b) = Nchw(k, x, "space_to_depth");
        if (h % b != 0 || w % b != 0)
        {
            throw new EvalException($"space_to_depth: spatial dimensions {h}x{w} are not divisible by blocksize {b}");
        }

        // DCR (the only order before opset 25): blocks outermost in the channel index; CRD: channels outermost.
        string mode = k.Str("mode", "DCR");
        var t = mode switch
        {
            "DCR" => Permute(x.Reshape([n, c, h / b, b, w / b, b]), [0, 3, 5, 1, 2, 4]),
            "CRD" => Permute(x.Reshape([n, c, h / b, b, w / b, b]), [0, 1, 3, 5, 2, 4]),
            _ => throw new EvalException($"space_to_depth: unknown mode '{mode}'"),
        };
        return One(t.Reshape([n, c * b * b, h / b, w / b]));
    }

    private static IReadOnlyList<NDArray> EyeLike(KernelContext k)
    {
        var x = k.In(0);
        if (x.Rank != 2)
        {
            throw new EvalException($"eye_like: input must be 2-D but has shape {ShapeText(x.Shape)}");
        }

        var type = k.OptInt("dtype") is long dt ? OnnxTypes.ToIr((int)dt) ?? throw new EvalException($"eye_like: unsupported dtype {OnnxTypes.Name((int)dt)}") : x.ElementType;
        long diag = k.Int("k", 0);
        long rows = x.Shape[0], cols = x.Shape[1];
        var data = new long[rows * cols];
        for (long i = 0; i < rows; i++)
        {
            long j = i + diag;
            if (j >= 0 && j < cols)
            {
                data[(i * cols) + j] = 1;
            }
        }

        return One(NDArray.Create(type, [rows, cols], data));
    }

    private static readonly ElementTypeRule DropoutType = (c, i) =>
        i == 0 || c.Int(GraphDialect.OpsetAttr) is > 0 and < 10 ? (c.Inputs.Count > 0 ? c.Inputs[0] : null) : IntegerType.I1;

    private static IReadOnlyList<NDArray> Dropout(KernelContext k)
    {
        var x = k.In(0);
        if (k.Opset >= 12 || k.Opset == 0)
        {
            bool training = k.Input(2) is { } tm && ScalarOf(tm, "dropout training_mode").GetI(0) != 0;
            double ratio = k.Input(1) is { } rt ? ScalarOf(rt, "dropout ratio").GetF(0) : 0.5;
            if (training && ratio != 0)
            {
                return TrainingDropout(k, x, ratio);
            }
        }

        if (k.Op.NumResults < 2)
        {
            return [x];
        }

        var maskType = k.ResultElementType(1) ?? (k.Opset is > 0 and < 10 ? x.ElementType : IntegerType.I1);
        var ones = new long[x.Length];
        Array.Fill(ones, 1L);
        return [x, NDArray.Create(maskType, (long[])x.Shape.Clone(), ones)];
    }

    /// <summary>
    /// Training-mode dropout with a <c>seed</c>: the mask is numpy's <c>RandomState(seed).uniform(0, 1, shape) &gt;= ratio</c>
    /// (what the ONNX reference and test generator compute), so results are deterministic and match them.
    /// </summary>
    private static IReadOnlyList<NDArray> TrainingDropout(KernelContext k, NDArray x, double ratio)
    {
        long seed = k.OptInt("seed") ?? throw new EvalException("dropout in training mode without a seed is random; the reference evaluator needs the seed attribute");
        if (ratio < 0 || ratio >= 1)
        {
            throw new EvalException($"dropout: ratio {ratio} must be in [0, 1)");
        }

        var rng = new NumpyMt19937((uint)seed);
        var v = x.AsDoubles();
        var y = new double[v.LongLength];
        var mask = new long[v.LongLength];
        double scale = 1 / (1 - ratio);
        for (long e = 0; e < v.LongLength; e++)
        {
            bool keep = rng.NextDouble() >= ratio;
            mask[e] = keep ? 1 : 0;
            y[e] = keep ? v[e] * scale : 0;
        }

        var outs = new List<NDArray> { NDArray.Create(x.ElementType, (long[])x.Shape.Clone(), y) };
        if (k.Op.NumResults > 1)
        {
            outs.Add(NDArray.Create(k.ResultElementType(1) ?? IntegerType.I1, (long[])x.Shape.Clone(), mask));
        }

        return outs;
    }

    private static IReadOnlyList<NDArray> ReverseSequence(KernelContext k)
    {
        var x = k.In(0);
        var lens = Ints(k.In(1));
        if (x.Rank < 2)
        {
            throw new EvalException("reverse_sequence: input must have rank at least 2");
        }

        int bAxis = KernelContext.Axis(k.Int("batch_axis", 1), x.Rank), tAxis = KernelContext.Axis(k.Int("time_axis", 0), x.Rank);
        if (bAxis == tAxis || lens.LongLength != x.Shape[bAxis])
        {
            throw new EvalException($"reverse_sequence: {lens.LongLength} sequence lengths for batch axis {bAxis} of shape {ShapeText(x.Shape)} (time axis {tAxis})");
        }

        long steps = x.Shape[tAxis];
        foreach (var len in lens)
        {
            if (len < 0 || len > steps)
            {
                throw new EvalException($"reverse_sequence: sequence length {len} is outside [0, {steps}]");
            }
        }

        var strides = NDArray.Strides(x.Shape);
        var map = new long[x.Length];
        var idx = new long[x.Rank];
        for (long e = 0; e < x.Length; e++)
        {
            long t = idx[tAxis], len = lens[idx[bAxis]];
            long src = t < len ? len - 1 - t : t;
            map[e] = e + ((src - t) * strides[tAxis]);
            Next(idx, x.Shape);
        }

        return One(Take(x, (long[])x.Shape.Clone(), map));
    }
}
