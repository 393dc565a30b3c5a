namespace Tessera.Dialects.Graph;

/// <summary>Shared helpers of the NN kernels: window geometry, integer saturation, erf, batched matmul.</summary>
internal static class NnOpsHelpers
{
    /// <summary>Geometry of a sliding window over the spatial dims (conv and pooling).</summary>
    internal sealed record Window(long[] In, long[] Kernel, long[] Strides, long[] Dilations, long[] PadBegin, long[] PadEnd, long[] Out)
    {
        public int Rank => In.Length;
        public long OutCount => NDArray.Count(Out);
        public long KernelCount => NDArray.Count(Kernel);
        public long InCount => NDArray.Count(In);
    }

    /// <summary>Trims a kernel's outputs to the number of results the op declares.</summary>
    internal static IReadOnlyList<NDArray> Outs(KernelContext k, params NDArray[] outs) =>
        k.Op.NumResults > 0 && k.Op.NumResults < outs.Length ? outs.Take(k.Op.NumResults).ToArray() : outs;

    internal static long[] AttrOr(KernelContext k, string name, int rank, long def)
    {
        var v = k.Ints(name);
        if (v is null || v.Length == 0)
        {
            return Enumerable.Repeat(def, rank).ToArray();
        }

        if (v.Length != rank)
        {
            throw new EvalException($"attribute '{name}' has {v.Length} values but the op has {rank} spatial dims");
        }

        return v;
    }

    /// <summary>
    /// Output size and pads per the ONNX conv/pool rules: explicit pads (NOTSET), VALID, SAME_UPPER, SAME_LOWER;
    /// <paramref name="ceilMode"/> for pools (a last window must start inside the input or the begin pad).
    /// </summary>
    internal static Window Geometry(KernelContext k, long[] inSpatial, long[] kernel, bool ceilMode)
    {
        int r = inSpatial.Length;
        var strides = AttrOr(k, "strides", r, 1);
        var dil = AttrOr(k, "dilations", r, 1);
        var pb = new long[r];
        var pe = new long[r];
        var outS = new long[r];
        string autoPad = k.Str("auto_pad", "NOTSET");
        var pads = k.Ints("pads");
        if (pads is { Length: > 0 } && pads.Length != 2 * r)
        {
            throw new EvalException($"attribute 'pads' has {pads.Length} values but the op needs {2 * r}");
        }

        for (int d = 0; d < r; d++)
        {
            if (strides[d] <= 0 || dil[d] <= 0)
            {
                throw new EvalException("strides and dilations must be positive");
            }

            long ek = (kernel[d] - 1) * dil[d] + 1;
            switch (autoPad)
            {
                case "SAME_UPPER":
                case "SAME_LOWER":
                {
                    outS[d] = (inSpatial[d] + strides[d] - 1) / strides[d];
                    long total = Math.Max(0, (outS[d] - 1) * strides[d] + ek - inSpatial[d]);
                    pb[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    pe[d] = total - pb[d];
                    break;
                }

                case "VALID":
                    outS[d] = Div(inSpatial[d] - ek, strides[d], ceilMode) + 1;
                    break;
                case "NOTSET":
                case "":
                {
                    if (pads is { Length: > 0 })
                    {
                        pb[d] = pads[d];
                        pe[d] = pads[d + r];
                    }

                    long span = inSpatial[d] + pb[d] + pe[d] - ek;
                    outS[d] = Div(span, strides[d], ceilMode) + 1;
                    if (ceilMode && (outS[d] - 1) * strides[d] >= inSpatial[d] + pb[d])
                    {
                        outS[d]--;
                    }

                    break;
                }

                default:
                    throw new EvalException($"unknown auto_pad '{autoPad}'");
            }

            if (outS[d] < 0)
            {
                outS[d] = 0;
            }
        }

        return new Window(inSpatial, kernel, strides, dil, pb, pe, outS);
    }

    private static long Div(long a, long b, bool ceil) => ceil ? (long)Math.Ceiling((double)a / b) : (long)Math.Floor((double)a / b);

    /// <summary>Decodes a row-major flat index into coordinates.</summary>
    internal static void Decode(long flat, long[] shape, long[] coords)
    {
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            long s = shape[d];
            coords[d] = s == 0 ? 0 : flat % s;
            flat = s == 0 ? 0 : flat / s;
        }
    }

    /// <summary>All coordinates of a shape, row-major: result[k][d].</summary>
    internal static long[][] AllCoords(long[] shape)
    {
        long n = NDArray.Count(shape);
        var res = new long[n][];
        for (long k = 0; k < n; k++)
        {
            res[k] = new long[shape.Length];
            Decode(k, shape, res[k]);
        }

        return res;
    }

    /// <summary>The saturation range of an integer element type.</summary>
    internal static (double Min, double Max) Range(Type t) => t switch
    {
        IntegerType { Width: 1 } => (0, 1),
        IntegerType { IsUnsigned: true } it => (0, it.Width >= 64 ? 1.8446744073709552E19 : Math.Pow(2, it.Width) - 1),
        IntegerType it => (-Math.Pow(2, it.Width - 1), Math.Pow(2, it.Width - 1) - 1),
        _ => (double.NegativeInfinity, double.PositiveInfinity),
    };

    /// <summary>Rounds half to even, then saturates to <paramref name="t"/>'s range (a no-op clamp for float types).</summary>
    internal static double RoundSaturate(double v, Type t)
    {
        if (t is FloatType)
        {
            return v;
        }

        var (lo, hi) = Range(t);
        if (double.IsNaN(v))
        {
            return 0;
        }

        return Math.Clamp(Math.Round(v, MidpointRounding.ToEven), lo, hi);
    }

    /// <summary>erf to near double precision: Taylor series for |x| &lt; 3, continued fraction of erfc beyond.</summary>
    internal static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        double ax = Math.Abs(x);
        if (ax < 3)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            double r = 2 / Math.Sqrt(Math.PI) * sum;
            return x < 0 ? -r : r;
        }

        if (ax > 6)
        {
            return x < 0 ? -1 : 1;
        }

        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
        double f = ax;
        for (int n = 60; n >= 1; n--)
        {
            f = ax + n / 2.0 / f;
        }

        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        return x < 0 ? erfc - 1 : 1 - erfc;
    }

    /// <summary>numpy matmul of doubles with batch broadcasting (1-D operands promoted and their dims removed).</summary>
    internal static (double[] Data, long[] Shape) MatMul(double[] a, long[] aShape, double[] b, long[] bShape)
    {
        bool aVec = aShape.Length == 1, bVec = bShape.Length == 1;
        var sa = aVec ? [1, aShape[0]] : aShape;
        var sb = bVec ? [bShape[0], 1] : bShape;
        if (sa.Length < 2 || sb.Length < 2)
        {
            throw new EvalException("matmul operands must have rank at least 1");
        }

        long m = sa[^2], kk = sa[^1], k2 = sb[^2], n = sb[^1];
        if (kk != k2)
        {
            throw new EvalException($"matmul inner dimensions differ: {kk} and {k2}");
        }

        var batch = NDArray.BroadcastShape(sa[..^2], sb[..^2]);
        var ia = NDArray.BroadcastIndex(sa[..^2], batch);
        var ib = NDArray.BroadcastIndex(sb[..^2], batch);
        long nb = NDArray.Count(batch);
        var outData = new double[nb * m * n];
        for (long bi = 0; bi < nb; bi++)
        {
            long aOff = ia[bi] * m * kk, bOff = ib[bi] * kk * n, oOff = bi * m * n;
            for (long i = 0; i < m; i++)
            {
                for (long j = 0; j < n; j++)
                {
                    double s = 0;
                    for (long t = 0; t < kk; t++)
                    {
                        s += a[aOff + i * kk + t] * b[bOff + t * n + j];
                    }

                    outData[oOff + i * n + j] = s;
                }
            }
        }

        var shape = new List<long>(batch);
        if (!aVec)
        {
            shape.Add(m);
        }

        if (!bVec)
        {
            shape.Add(n);
        }

        return (outData, shape.ToArray());
    }

    /// <summary>The element type for a result: the declared one if the IR has it, else <paramref name="fallback"/>.</summary>
    internal static Type ResultType(KernelContext k, int i, Type fallback) => k.ResultElementType(i) ?? fallback;

    /// <summary>An optional input that is absent or empty (ONNX uses empty tensors for "not given").</summary>
    internal static NDArray? NonEmpty(KernelContext k, int i) => k.Input(i) is { Length: > 0 } a ? a : null;
}
