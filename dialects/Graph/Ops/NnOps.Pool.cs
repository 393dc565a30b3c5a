using static Tessera.Dialects.Graph.NnOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class NnOps
{
    private enum PoolKind
    {
        Max,
        Average,
        Lp,
    }

    /// <summary>Max, average or Lp pooling over windows of x [N, C, D...]; for max also the argmax indices.</summary>
    private static IReadOnlyList<NDArray> Pool(KernelContext k, PoolKind kind)
    {
        var x = k.In(0);
        var xs = x.Shape;
        if (xs.Length < 3)
        {
            throw new EvalException($"pooling needs an input of rank >= 3, got [{string.Join(", ", xs)}]");
        }

        var kernel = k.Ints("kernel_shape") ?? throw new EvalException("attribute 'kernel_shape' is required");
        var spatial = xs[2..];
        if (kernel.Length != spatial.Length)
        {
            throw new EvalException("kernel_shape must have one value per spatial dim");
        }

        var g = Geometry(k, spatial, kernel, k.Int("ceil_mode", 0) != 0);
        bool includePad = k.Int("count_include_pad", 0) != 0;
        double p = k.Float("p", 2);
        bool colMajor = k.Int("storage_order", 0) != 0;
        int r = spatial.Length;
        long nc = xs[0] * xs[1], inCount = g.InCount, outCount = g.OutCount, kCount = g.KernelCount;
        var outCoords = AllCoords(g.Out);
        var kCoords = AllCoords(kernel);
        var inStrides = NDArray.Strides(spatial);

        // Column-major strides of the spatial dims, for storage_order = 1 indices.
        var colStrides = new long[r];
        long acc = 1;
        for (int d = 0; d < r; d++)
        {
            colStrides[d] = acc;
            acc *= spatial[d];
        }

        var taps = new long[outCount * kCount];
        var colTaps = new long[outCount * kCount];
        var padCount = new long[outCount];
        for (long o = 0; o < outCount; o++)
        {
            for (long t = 0; t < kCount; t++)
            {
                long flat = 0, col = 0;
                bool inPad = true;
                for (int d = 0; d < r; d++)
                {
                    long q = outCoords[o][d] * g.Strides[d] - g.PadBegin[d] + kCoords[t][d] * g.Dilations[d];
                    inPad &= q >= -g.PadBegin[d] && q < spatial[d] + g.PadEnd[d];
                    if (flat >= 0)
                    {
                        flat = q < 0 || q >= spatial[d] ? -1 : flat + q * inStrides[d];
                        col += q * colStrides[d];
                    }
                }

                taps[o * kCount + t] = flat;
                colTaps[o * kCount + t] = col;
                if (inPad)
                {
                    padCount[o]++;
                }
            }
        }

        var xd = x.AsDoubles();
        var y = new double[nc * outCount];
        var idx = new long[nc * outCount];
        for (long ch = 0; ch < nc; ch++)
        {
            long off = ch * inCount;
            for (long o = 0; o < outCount; o++)
            {
                double best = double.NegativeInfinity, sum = 0;
                long bestIdx = -1, count = 0;
                bool nan = false;
                for (long t = 0; t < kCount; t++)
                {
                    long q = taps[o * kCount + t];
                    if (q < 0)
                    {
                        continue;
                    }

                    double v = xd[off + q];
                    count++;
                    switch (kind)
                    {
                        case PoolKind.Max:
                            nan |= double.IsNaN(v);
                            if (bestIdx < 0 || v > best)
                            {
                                best = v;
                                bestIdx = off + (colMajor ? colTaps[o * kCount + t] : q);
                            }

                            break;
                        case PoolKind.Average:
                            sum += v;
                            break;
                        default:
                            sum += Math.Pow(Math.Abs(v), p);
                            break;
                    }
                }

                long at = ch * outCount + o;
                switch (kind)
                {
                    case PoolKind.Max:
                        y[at] = nan ? double.NaN : bestIdx < 0 ? double.NegativeInfinity : best;
                        idx[at] = Math.Max(bestIdx, 0);
                        break;
                    case PoolKind.Average:
                        long div = includePad ? padCount[o] : count;
                        y[at] = div == 0 ? double.NaN : sum / div;
                        break;
                    default:
                        y[at] = Math.Pow(sum, 1 / p);
                        break;
                }
            }
        }

        var shape = new long[] { xs[0], xs[1] }.Concat(g.Out).ToArray();
        var result = NDArray.Create(x.ElementType, shape, y);
        return kind == PoolKind.Max ? Outs(k, result, NDArray.Create(IntegerType.I64, shape, idx)) : [result];
    }

    private static IReadOnlyList<NDArray> MaxPool(KernelContext k) => Pool(k, PoolKind.Max);
    private static IReadOnlyList<NDArray> AveragePool(KernelContext k) => Pool(k, PoolKind.Average);
    private static IReadOnlyList<NDArray> LpPool(KernelContext k) => Pool(k, PoolKind.Lp);

    /// <summary>Reduces all spatial dims of x [N, C, D...] to 1.</summary>
    private static IReadOnlyList<NDArray> GlobalPool(KernelContext k, PoolKind kind)
    {
        var x = k.In(0);
        if (x.Rank < 2)
        {
            throw new EvalException("global pooling needs an input of rank >= 2");
        }

        long nc = x.Shape[0] * x.Shape[1], inner = NDArray.Count(x.Shape[2..]);
        double p = k.Float("p", 2);
        var xd = x.AsDoubles();
        var y = new double[nc];
        for (long ch = 0; ch < nc; ch++)
        {
            double acc = kind == PoolKind.Max ? double.NegativeInfinity : 0;
            for (long i = 0; i < inner; i++)
            {
                double v = xd[ch * inner + i];
                acc = kind switch
                {
                    PoolKind.Max => double.IsNaN(v) || v > acc ? v : acc,
                    PoolKind.Average => acc + v,
                    _ => acc + Math.Pow(Math.Abs(v), p),
                };
            }

            y[ch] = kind switch
            {
                PoolKind.Max => acc,
                PoolKind.Average => acc / inner,
                _ => Math.Pow(acc, 1 / p),
            };
        }

        var shape = x.Shape.Select((d, i) => i < 2 ? d : 1).ToArray();
        return [NDArray.Create(x.ElementType, shape, y)];
    }

    private static IReadOnlyList<NDArray> GlobalMaxPool(KernelContext k) => GlobalPool(k, PoolKind.Max);
    private static IReadOnlyList<NDArray> GlobalAveragePool(KernelContext k) => GlobalPool(k, PoolKind.Average);
    private static IReadOnlyList<NDArray> GlobalLpPool(KernelContext k) => GlobalPool(k, PoolKind.Lp);
}
