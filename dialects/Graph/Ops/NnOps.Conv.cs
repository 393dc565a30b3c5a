using static Tessera.Dialects.Graph.NnOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class NnOps
{
    /// <summary>
    /// Grouped N-d convolution of zero-point-adjusted data: x [N, C, D...], w [M, C/group, K...] → [N, M, O...].
    /// Padded positions contribute nothing. <paramref name="bias"/> is per output channel.
    /// </summary>
    private static (double[] Data, long[] Shape) ConvCore(KernelContext k, double[] x, long[] xs, double[] w, long[] ws, double[]? bias)
    {
        if (xs.Length < 3 || ws.Length != xs.Length)
        {
            throw new EvalException($"conv needs X of rank >= 3 and W of the same rank, got [{string.Join(", ", xs)}] and [{string.Join(", ", ws)}]");
        }

        long group = k.Int("group", 1);
        long n = xs[0], c = xs[1], m = ws[0], cg = ws[1];
        if (group <= 0 || c != cg * group || m % group != 0)
        {
            throw new EvalException($"conv channels do not match: C={c}, W channels={cg}, group={group}, M={m}");
        }

        var spatial = xs[2..];
        var kernel = k.Ints("kernel_shape") is { Length: > 0 } ks ? ks : ws[2..];
        var g = Geometry(k, spatial, kernel, false);
        long mg = m / group, outCount = g.OutCount, inCount = g.InCount, kCount = g.KernelCount;
        var outShape = new long[] { n, m }.Concat(g.Out).ToArray();
        var result = new double[n * m * outCount];
        var outCoords = AllCoords(g.Out);
        var kCoords = AllCoords(kernel);
        int r = spatial.Length;
        var inStrides = NDArray.Strides(spatial);
        var pos = new long[outCount * kCount];

        // For each output position and kernel tap, the flat input index it reads (-1 in the padding).
        for (long o = 0; o < outCount; o++)
        {
            for (long t = 0; t < kCount; t++)
            {
                long flat = 0;
                for (int d = 0; d < r && flat >= 0; d++)
                {
                    long p = outCoords[o][d] * g.Strides[d] - g.PadBegin[d] + kCoords[t][d] * g.Dilations[d];
                    flat = p < 0 || p >= spatial[d] ? -1 : flat + p * inStrides[d];
                }

                pos[o * kCount + t] = flat;
            }
        }

        for (long b = 0; b < n; b++)
        {
            for (long oc = 0; oc < m; oc++)
            {
                long grp = oc / mg;
                for (long o = 0; o < outCount; o++)
                {
                    double s = bias is null ? 0 : bias[oc];
                    for (long ic = 0; ic < cg; ic++)
                    {
                        long xOff = (b * c + grp * cg + ic) * inCount, wOff = (oc * cg + ic) * kCount;
                        for (long t = 0; t < kCount; t++)
                        {
                            long p = pos[o * kCount + t];
                            if (p >= 0)
                            {
                                s += x[xOff + p] * w[wOff + t];
                            }
                        }
                    }

                    result[(b * m + oc) * outCount + o] = s;
                }
            }
        }

        return (result, outShape);
    }

    private static IReadOnlyList<NDArray> Conv(KernelContext k)
    {
        var x = k.In(0);
        var w = k.In(1);
        var (data, shape) = ConvCore(k, x.AsDoubles(), x.Shape, w.AsDoubles(), w.Shape, k.Input(2)?.AsDoubles());
        return [NDArray.Create(x.ElementType, shape, data)];
    }

    /// <summary>Subtracts a zero point that is a scalar or per-channel along axis 1 (x) or 0 (w).</summary>
    private static double[] MinusZeroPoint(NDArray v, NDArray? zp, int axis)
    {
        var d = v.AsDoubles().ToArray();
        if (zp is null || zp.Length == 0)
        {
            return d;
        }

        var z = zp.AsDoubles();
        if (z.Length == 1)
        {
            for (long i = 0; i < d.LongLength; i++)
            {
                d[i] -= z[0];
            }

            return d;
        }

        long inner = NDArray.Count(v.Shape[(axis + 1)..]), ch = v.Shape[axis];
        if (z.Length != ch)
        {
            throw new EvalException($"zero point has {z.Length} values but the channel dim is {ch}");
        }

        for (long i = 0; i < d.LongLength; i++)
        {
            d[i] -= z[i / inner % ch];
        }

        return d;
    }

    private static IReadOnlyList<NDArray> ConvInteger(KernelContext k)
    {
        var x = k.In(0);
        var w = k.In(1);
        var (data, shape) = ConvCore(k, MinusZeroPoint(x, k.Input(2), 1), x.Shape, MinusZeroPoint(w, k.Input(3), 0), w.Shape, null);
        return [NDArray.Create(ResultType(k, 0, IntegerType.I32), shape, data)];
    }

    private static IReadOnlyList<NDArray> QLinearConv(KernelContext k)
    {
        var x = k.In(0);
        var w = k.In(3);
        double xScale = k.In(1).AsDoubles()[0];
        var wScale = k.In(4).AsDoubles();
        double yScale = k.In(6).AsDoubles()[0];
        var yZp = k.Input(7);
        var outType = ResultType(k, 0, yZp?.ElementType ?? IntegerType.U8);
        var (acc, shape) = ConvCore(k, MinusZeroPoint(x, k.In(2), 1), x.Shape, MinusZeroPoint(w, k.Input(5), 0), w.Shape, k.Input(8)?.AsDoubles());
        double zp = yZp is null ? 0 : yZp.AsDoubles()[0];
        long m = shape[1], inner = NDArray.Count(shape[2..]);
        for (long i = 0; i < acc.LongLength; i++)
        {
            double ws = wScale.Length == 1 ? wScale[0] : wScale[i / inner % m];
            acc[i] = RoundSaturate(acc[i] * (xScale * ws / yScale) + zp, outType);
        }

        return [NDArray.Create(outType, shape, acc)];
    }

    private static IReadOnlyList<NDArray> ConvTranspose(KernelContext k)
    {
        var x = k.In(0);
        var w = k.In(1);
        var xs = x.Shape;
        var ws = w.Shape;
        if (xs.Length < 3 || ws.Length != xs.Length)
        {
            throw new EvalException("ConvTranspose needs X of rank >= 3 and W of the same rank");
        }

        int r = xs.Length - 2;
        long group = k.Int("group", 1);
        long n = xs[0], c = xs[1], mg = ws[1], m = mg * group;
        if (group <= 0 || ws[0] != c || c % group != 0)
        {
            throw new EvalException($"ConvTranspose channels do not match: C={c}, W=[{string.Join(", ", ws)}], group={group}");
        }

        var spatial = xs[2..];
        var kernel = k.Ints("kernel_shape") is { Length: > 0 } ks ? ks : ws[2..];
        var strides = AttrOr(k, "strides", r, 1);
        var dil = AttrOr(k, "dilations", r, 1);
        var outPad = AttrOr(k, "output_padding", r, 0);
        var pads = k.Ints("pads");
        var outputShape = k.Ints("output_shape");
        string autoPad = k.Str("auto_pad", "NOTSET");
        var pb = new long[r];
        var outS = new long[r];
        for (int d = 0; d < r; d++)
        {
            long ek = (kernel[d] - 1) * dil[d] + 1;
            long full = strides[d] * (spatial[d] - 1) + outPad[d] + ek;
            if (outputShape is { Length: > 0 } || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                long target = outputShape is { Length: > 0 } ? outputShape[outputShape.Length - r + d] : spatial[d] * strides[d];
                long total = full - target, halfDown = (long)Math.Floor(total / 2.0);
                pb[d] = autoPad == "SAME_UPPER" ? halfDown : total - halfDown;
                outS[d] = target;
            }
            else
            {
                long b = 0, e = 0;
                if (autoPad != "VALID" && pads is { Length: > 0 })
                {
                    b = pads[d];
                    e = pads[d + r];
                }

                pb[d] = b;
                outS[d] = full - b - e;
            }
        }

        long inCount = NDArray.Count(spatial), outCount = NDArray.Count(outS), kCount = NDArray.Count(kernel);
        long cg = c / group;
        var xd = x.AsDoubles();
        var wd = w.AsDoubles();
        var bias = k.Input(2)?.AsDoubles();
        var result = new double[n * m * outCount];
        var inCoords = AllCoords(spatial);
        var kCoords = AllCoords(kernel);
        var outStrides = NDArray.Strides(outS);
        for (long b = 0; b < n; b++)
        {
            for (long ic = 0; ic < c; ic++)
            {
                long grp = ic / cg;
                for (long ip = 0; ip < inCount; ip++)
                {
                    double xv = xd[(b * c + ic) * inCount + ip];
                    for (long t = 0; t < kCount; t++)
                    {
                        long flat = 0;
                        for (int d = 0; d < r && flat >= 0; d++)
                        {
                            long p = inCoords[ip][d] * strides[d] - pb[d] + kCoords[t][d] * dil[d];
                            flat = p < 0 || p >= outS[d] ? -1 : flat + p * outStrides[d];
                        }

                        if (flat < 0)
                        {
                            continue;
                        }

                        for (long om = 0; om < mg; om++)
                        {
                            long oc = grp * mg + om;
                            result[(b * m + oc) * outCount + flat] += xv * wd[(ic * mg + om) * kCount + t];
                        }
                    }
                }
            }
        }

        if (bias is not null)
        {
            for (long i = 0; i < result.LongLength; i++)
            {
                result[i] += bias[i / outCount % m];
            }
        }

        return [NDArray.Create(x.ElementType, new long[] { n, m }.Concat(outS).ToArray(), result)];
    }
}
