using static Tessera.Dialects.Graph.NnOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class NnOps
{
    /// <summary>
    /// For each element of <paramref name="x"/>, the index into a scale/zero-point tensor that is per-tensor (one value),
    /// per-axis (1-D along <paramref name="axis"/>) or blocked (same rank, axis dim divided into blocks of <paramref name="blockSize"/>).
    /// </summary>
    private static long[] QuantParamIndex(long[] xShape, NDArray scale, long axisAttr, long blockSize)
    {
        long n = NDArray.Count(xShape);
        var map = new long[n];
        if (scale.Length == 1 && blockSize <= 0)
        {
            return map;
        }

        int r = xShape.Length;
        int axis = KernelContext.Axis(axisAttr, r);
        long inner = NDArray.Count(xShape[(axis + 1)..]);
        if (blockSize <= 0)
        {
            if (scale.Rank != 1 || scale.Shape[0] != xShape[axis])
            {
                throw new EvalException($"per-axis scale has shape [{string.Join(", ", scale.Shape)}] but axis {axis} has {xShape[axis]} elements");
            }

            for (long i = 0; i < n; i++)
            {
                map[i] = i / inner % xShape[axis];
            }

            return map;
        }

        if (scale.Rank != r || scale.Shape[axis] != (xShape[axis] + blockSize - 1) / blockSize)
        {
            throw new EvalException($"blocked scale has shape [{string.Join(", ", scale.Shape)}], which does not match input [{string.Join(", ", xShape)}] with block_size {blockSize}");
        }

        var coords = new long[r];
        var sStrides = NDArray.Strides(scale.Shape);
        for (long i = 0; i < n; i++)
        {
            Decode(i, xShape, coords);
            long s = 0;
            for (int d = 0; d < r; d++)
            {
                s += (d == axis ? coords[d] / blockSize : coords[d]) * sStrides[d];
            }

            map[i] = s;
        }

        return map;
    }

    /// <summary>Output type of QuantizeLinear: the zero point's type, else <c>output_dtype</c>, else uint8.</summary>
    private static readonly ElementTypeRule QuantizedType = (c, _) =>
        c.Inputs.Count > 2 && c.Inputs[2] is { } z ? z : c.Int("output_dtype") is long dt && dt != 0 ? OnnxTypes.ToIr((int)dt) : IntegerType.U8;

    /// <summary>Output type of DequantizeLinear: <c>output_dtype</c> if set, else the scale's type.</summary>
    private static readonly ElementTypeRule DequantizedType = (c, _) =>
        c.Int("output_dtype") is long dt && dt != 0 ? OnnxTypes.ToIr((int)dt) : c.Inputs.Count > 1 ? c.Inputs[1] : null;

    private static IReadOnlyList<NDArray> QuantizeLinear(KernelContext k)
    {
        var x = k.In(0);
        var scale = k.In(1);
        var zp = k.Input(2);
        long dt = k.Int("output_dtype", 0);
        var outType = zp?.ElementType ?? (dt != 0 ? OnnxTypes.ToIr((int)dt) : null) ?? ResultType(k, 0, IntegerType.U8);
        if (outType is not IntegerType)
        {
            throw new EvalException($"QuantizeLinear to {outType} is not supported");
        }

        var map = QuantParamIndex(x.Shape, scale, k.Int("axis", 1), k.Int("block_size", 0));
        var xd = x.AsDoubles();
        var sd = scale.AsDoubles();
        var zd = zp?.AsDoubles();
        bool f32 = x.ElementType is FloatType { Kind: FloatKind.F32 };
        var y = new double[xd.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            // The spec divides in the input's precision before rounding half to even.
            double q = xd[i] / sd[map[i]];
            if (f32)
            {
                q = FloatFormat.RoundTo(q, FloatType.F32);
            }

            y[i] = RoundSaturate(Math.Round(q, MidpointRounding.ToEven) + (zd is null ? 0 : zd[map[i]]), outType);
        }

        return [NDArray.Create(outType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> DequantizeLinear(KernelContext k)
    {
        var x = k.In(0);
        var scale = k.In(1);
        var zp = k.Input(2);
        long dt = k.Int("output_dtype", 0);
        var outType = (dt != 0 ? OnnxTypes.ToIr((int)dt) : null) ?? scale.ElementType;
        var map = QuantParamIndex(x.Shape, scale, k.Int("axis", 1), k.Int("block_size", 0));
        var xd = x.AsDoubles();
        var sd = scale.AsDoubles();
        var zd = zp?.AsDoubles();
        var y = new double[xd.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = (xd[i] - (zd is null ? 0 : zd[map[i]])) * sd[map[i]];
        }

        return [NDArray.Create(outType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> DynamicQuantizeLinear(KernelContext k)
    {
        var x = k.In(0);
        var xd = x.AsDoubles();
        double min = 0, max = 0;
        foreach (var v in xd)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        double scale = FloatFormat.RoundTo((max - min) / 255, FloatType.F32);
        double zp = scale == 0 ? 0 : RoundSaturate(Math.Round(FloatFormat.RoundTo(-min / scale, FloatType.F32), MidpointRounding.ToEven), IntegerType.U8);
        var y = new double[xd.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = scale == 0 ? zp : RoundSaturate(Math.Round(FloatFormat.RoundTo(xd[i] / scale, FloatType.F32), MidpointRounding.ToEven) + zp, IntegerType.U8);
        }

        return Outs(k, NDArray.Create(IntegerType.U8, x.Shape, y), NDArray.Create(FloatType.F32, [], [scale]), NDArray.Create(IntegerType.U8, [], [zp]));
    }

    /// <summary>Per-tensor or per-last-axis/row scale or zero point of QLinearMatMul, as a function of (row, column).</summary>
    private static Func<long, double> QParam(NDArray? p, double def, long count, long stride)
    {
        if (p is null || p.Length == 0)
        {
            return _ => def;
        }

        var d = p.AsDoubles();
        return d.Length == 1 ? _ => d[0] : flat => d[flat / stride % count % d.Length];
    }

    private static IReadOnlyList<NDArray> QLinearMatMul(KernelContext k)
    {
        var a = k.In(0);
        var b = k.In(3);
        var yZp = k.Input(7);
        var outType = ResultType(k, 0, yZp?.ElementType ?? IntegerType.U8);
        long m = a.Rank >= 2 ? a.Shape[^2] : 1, n = b.Rank >= 2 ? b.Shape[^1] : 1;
        var aZp = QParam(k.Input(2), 0, m, a.Shape[^1]);
        var bZp = QParam(k.Input(5), 0, n, 1);
        var ad = a.AsDoubles().Select((v, i) => v - aZp(i)).ToArray();
        var bd = b.AsDoubles().Select((v, i) => v - bZp(i)).ToArray();
        var (acc, shape) = MatMul(ad, a.Shape, bd, b.Shape);

        // The multiplier a_scale * b_scale / y_scale is formed in the scales' precision, as the spec's reference does.
        var scaleType = k.In(1).ElementType as FloatType ?? FloatType.F32;
        var aScale = QParam(k.In(1), 1, m, n);
        var bScale = QParam(k.In(4), 1, n, 1);
        double yScale = k.In(6).AsDoubles()[0];
        double yz = yZp is null ? 0 : yZp.AsDoubles()[0];
        for (long i = 0; i < acc.LongLength; i++)
        {
            double mult = FloatFormat.RoundTo(FloatFormat.RoundTo(aScale(i) * bScale(i), scaleType) / yScale, scaleType);
            acc[i] = RoundSaturate(acc[i] * mult + yz, outType);
        }

        return [NDArray.Create(outType, shape, acc)];
    }
}
