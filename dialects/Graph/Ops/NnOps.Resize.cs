using static Tessera.Dialects.Graph.NnOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class NnOps
{
    /// <summary>How one axis is resized: mode and coordinate transform settings shared by all axes.</summary>
    private sealed record ResizeMode(string Mode, string Coord, string Nearest, double CubicA, bool ExcludeOutside, bool Antialias, double Extrapolation);

    private static IReadOnlyList<NDArray> Resize(KernelContext k)
    {
        var x = k.In(0);
        int r = x.Rank;
        bool v10 = k.Opset is > 0 and <= 10;
        var mode = new ResizeMode(
            k.Str("mode", "nearest"),
            v10 ? "asymmetric" : k.Str("coordinate_transformation_mode", "half_pixel"),
            v10 ? "floor" : k.Str("nearest_mode", "round_prefer_floor"),
            k.Float("cubic_coeff_a", -0.75),
            k.Int("exclude_outside", 0) != 0,
            k.Int("antialias", 0) != 0,
            k.Float("extrapolation_value", 0));
        var roi = v10 ? null : NonEmpty(k, 1)?.AsDoubles();
        var scalesIn = NonEmpty(k, v10 ? 1 : 2)?.AsDoubles();
        var sizesIn = v10 ? null : NonEmpty(k, 3)?.AsLongs();
        var axes = (k.Ints("axes") ?? Enumerable.Range(0, r).Select(i => (long)i).ToArray()).Select(a => KernelContext.Axis(a, r)).ToArray();
        if (axes.Distinct().Count() != axes.Length)
        {
            throw new EvalException("Resize axes must be unique");
        }

        var scales = Enumerable.Repeat(1.0, r).ToArray();
        var outShape = x.Shape.ToArray();
        if (scalesIn is not null)
        {
            if (scalesIn.Length != axes.Length)
            {
                throw new EvalException($"Resize has {scalesIn.Length} scales for {axes.Length} axes");
            }

            for (int i = 0; i < axes.Length; i++)
            {
                if (scalesIn[i] <= 0)
                {
                    throw new EvalException("Resize scales must be positive");
                }

                scales[axes[i]] = scalesIn[i];
                outShape[axes[i]] = (long)Math.Floor(x.Shape[axes[i]] * scalesIn[i]);
            }
        }
        else if (sizesIn is not null)
        {
            if (sizesIn.Length != axes.Length)
            {
                throw new EvalException($"Resize has {sizesIn.Length} sizes for {axes.Length} axes");
            }

            string policy = k.Str("keep_aspect_ratio_policy", "stretch");
            var ratios = axes.Select((a, i) => (double)sizesIn[i] / x.Shape[a]).ToArray();
            for (int i = 0; i < axes.Length; i++)
            {
                int a = axes[i];
                if (policy == "stretch")
                {
                    scales[a] = ratios[i];
                    outShape[a] = sizesIn[i];
                }
                else
                {
                    double s = policy == "not_larger" ? ratios.Min() : policy == "not_smaller" ? ratios.Max() : throw new EvalException($"unknown keep_aspect_ratio_policy '{policy}'");
                    scales[a] = s;
                    outShape[a] = (long)Math.Floor(s * x.Shape[a] + 0.5);
                }
            }
        }
        else
        {
            throw new EvalException("Resize needs scales or sizes");
        }

        var data = x.AsDoubles();
        var shape = x.Shape.ToArray();
        for (int i = 0; i < axes.Length; i++)
        {
            int a = axes[i];
            double start = 0, end = 1;
            if (roi is not null)
            {
                int na = roi.Length / 2;
                int ri = roi.Length == 2 * axes.Length ? i : a;
                if (ri < na)
                {
                    start = roi[ri];
                    end = roi[ri + na];
                }
            }

            bool identity = outShape[a] == shape[a] && scales[a] == 1 && mode.Coord != "tf_crop_and_resize";
            if (!identity)
            {
                data = ResizeAxis(data, shape, a, outShape[a], scales[a], start, end, mode);
                shape[a] = outShape[a];
            }
        }

        return [NDArray.Create(x.ElementType, shape, data)];
    }

    private static IReadOnlyList<NDArray> Upsample(KernelContext k)
    {
        var x = k.In(0);
        var scales = k.Opset is > 0 and < 9 ? k.Floats("scales") : k.Input(1)?.AsDoubles() ?? k.Floats("scales");
        if (scales is null || scales.Length != x.Rank)
        {
            throw new EvalException("Upsample needs one scale per input dim");
        }

        string m = k.Str("mode", "nearest");
        var mode = new ResizeMode(m is "bilinear" or "trilinear" ? "linear" : m, "asymmetric", "floor", -0.75, false, false, 0);
        var data = x.AsDoubles();
        var shape = x.Shape.ToArray();
        for (int a = 0; a < x.Rank; a++)
        {
            long o = (long)Math.Floor(shape[a] * scales[a]);
            if (scales[a] != 1)
            {
                data = ResizeAxis(data, shape, a, o, scales[a], 0, 1, mode);
                shape[a] = o;
            }
        }

        return [NDArray.Create(x.ElementType, shape, data)];
    }

    /// <summary>Resizes one axis: each output element is a weighted sum of input elements along the axis (separable).</summary>
    private static double[] ResizeAxis(double[] data, long[] shape, int axis, long outLen, double scale, double roiStart, double roiEnd, ResizeMode m)
    {
        long len = shape[axis];
        long outer = NDArray.Count(shape[..axis]), inner = NDArray.Count(shape[(axis + 1)..]);
        var taps = new (long[] Idx, double[] W, bool Extrapolate)[outLen];
        for (long i = 0; i < outLen; i++)
        {
            taps[i] = Taps(i, len, outLen, scale, roiStart, roiEnd, m);
        }

        var result = new double[outer * outLen * inner];
        for (long o = 0; o < outer; o++)
        {
            for (long i = 0; i < outLen; i++)
            {
                var (idx, w, extra) = taps[i];
                for (long j = 0; j < inner; j++)
                {
                    double s;
                    if (extra)
                    {
                        s = m.Extrapolation;
                    }
                    else
                    {
                        s = 0;
                        for (int t = 0; t < idx.Length; t++)
                        {
                            if (w[t] != 0)
                            {
                                s += w[t] * data[(o * len + idx[t]) * inner + j];
                            }
                        }
                    }

                    result[(o * outLen + i) * inner + j] = s;
                }
            }
        }

        return result;
    }

    private static double OriginalCoordinate(long i, long len, long outLen, double scale, double roiStart, double roiEnd, string coord)
    {
        double outW = scale * len;
        return coord switch
        {
            "half_pixel" => (i + 0.5) / scale - 0.5,
            "half_pixel_symmetric" => len / 2.0 * (1 - outLen / outW) + (i + 0.5) / scale - 0.5,
            "pytorch_half_pixel" => outLen > 1 ? (i + 0.5) / scale - 0.5 : 0,
            "align_corners" => outW == 1 ? 0 : i * (len - 1) / (outW - 1),
            "asymmetric" => i / scale,
            "tf_crop_and_resize" => outLen > 1
                ? roiStart * (len - 1) + i * (roiEnd - roiStart) * (len - 1) / (outLen - 1)
                : 0.5 * (roiStart + roiEnd) * (len - 1),
            _ => throw new EvalException($"unknown coordinate_transformation_mode '{coord}'"),
        };
    }

    /// <summary>The input indices (edge-clamped) and weights that make output element <paramref name="i"/>.</summary>
    private static (long[] Idx, double[] W, bool Extrapolate) Taps(long i, long len, long outLen, double scale, double roiStart, double roiEnd, ResizeMode m)
    {
        double x = OriginalCoordinate(i, len, outLen, scale, roiStart, roiEnd, m.Coord);
        if (m.Coord == "tf_crop_and_resize" && (x < 0 || x > len - 1))
        {
            return ([], [], true);
        }

        double fl = Math.Floor(x);
        bool isInt = x == fl;
        long left = isInt ? (long)fl - 1 : (long)fl;
        double ratio = isInt ? 1 : x - fl;
        if (m.Mode == "nearest")
        {
            long pick = isInt ? (long)fl : m.Nearest switch
            {
                "round_prefer_floor" => ratio <= 0.5 ? left : left + 1,
                "round_prefer_ceil" => ratio < 0.5 ? left : left + 1,
                "floor" => left,
                "ceil" => left + 1,
                _ => throw new EvalException($"unknown nearest_mode '{m.Nearest}'"),
            };
            return ([Math.Clamp(pick, 0, len - 1)], [1.0], false);
        }

        double[] w;
        double sc = m.Antialias ? Math.Min(scale, 1) : 1;
        if (m.Mode == "linear")
        {
            long start = (long)Math.Floor(-1 / sc) + 1;
            int n = (int)(2 - 2 * start);
            w = new double[n];
            for (int q = 0; q < n; q++)
            {
                w[q] = Math.Clamp(1 - Math.Abs((start + q - ratio) * sc), 0, 1);
            }
        }
        else if (m.Mode == "cubic")
        {
            long start = (long)Math.Floor(-2 / sc) + 1;
            int n = (int)(2 - 2 * start);
            w = new double[n];
            double a = m.CubicA;
            for (int q = 0; q < n; q++)
            {
                double d = Math.Abs((start + q - ratio) * sc);
                w[q] = d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0;
            }
        }
        else
        {
            throw new EvalException($"unknown Resize mode '{m.Mode}'");
        }

        int count = w.Length;
        long first = left + 1 - count / 2;
        var idx = new long[count];
        double sum = 0;
        for (int q = 0; q < count; q++)
        {
            long p = first + q;
            if (m.ExcludeOutside && (p < 0 || p >= len))
            {
                w[q] = 0;
            }

            sum += w[q];
            idx[q] = Math.Clamp(p, 0, len - 1);
        }

        if (sum != 0 && (m.Antialias || m.ExcludeOutside))
        {
            for (int q = 0; q < count; q++)
            {
                w[q] /= sum;
            }
        }

        return (idx, w, false);
    }
}
