using static Tessera.Dialects.Graph.NnOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class NnOps
{
    private static double GeluErf(double v) => 0.5 * v * (1 + Erf(v / Math.Sqrt(2)));

    private static double GeluTanh(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

    /// <summary>f(a + b) with b broadcast to a (b absent: f(a)).</summary>
    private static IReadOnlyList<NDArray> BiasUnary(KernelContext k, NDArray a, NDArray? b, Func<double, double> f)
    {
        var ad = a.AsDoubles();
        var y = new double[ad.LongLength];
        if (b is null)
        {
            for (long i = 0; i < y.LongLength; i++)
            {
                y[i] = f(ad[i]);
            }

            return [NDArray.Create(a.ElementType, a.Shape, y)];
        }

        var shape = NDArray.BroadcastShape(a.Shape, b.Shape);
        var ia = NDArray.BroadcastIndex(a.Shape, shape);
        var ib = NDArray.BroadcastIndex(b.Shape, shape);
        var bd = b.AsDoubles();
        y = new double[ia.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = f(ad[ia[i]] + bd[ib[i]]);
        }

        return [NDArray.Create(ResultType(k, 0, a.ElementType), shape, y)];
    }

    private static IReadOnlyList<NDArray> MsGelu(KernelContext k) => BiasUnary(k, k.In(0), null, GeluErf);
    private static IReadOnlyList<NDArray> BiasGelu(KernelContext k) => BiasUnary(k, k.In(0), k.In(1), GeluErf);
    private static IReadOnlyList<NDArray> FastGelu(KernelContext k) => BiasUnary(k, k.In(0), k.Input(1), GeluTanh);

    /// <summary>
    /// Normalizes rows of length <paramref name="h"/>: LayerNorm (mean-centred) or RMSNorm (<paramref name="simplified"/>),
    /// times gamma plus beta (both broadcast over the row). Returns y, mean and 1/sqrt(var + eps) per row.
    /// </summary>
    private static (double[] Y, double[] Mean, double[] InvStd) NormalizeRows(double[] s, long h, double[] gamma, double[]? beta, double eps, bool simplified)
    {
        long rows = h == 0 ? 0 : s.LongLength / h;
        var y = new double[s.LongLength];
        var means = new double[rows];
        var inv = new double[rows];
        for (long r = 0; r < rows; r++)
        {
            double mean = 0;
            if (!simplified)
            {
                for (long j = 0; j < h; j++)
                {
                    mean += s[r * h + j];
                }

                mean /= h;
            }

            double v = 0;
            for (long j = 0; j < h; j++)
            {
                double d = s[r * h + j] - mean;
                v += d * d;
            }

            double invStd = 1 / Math.Sqrt(v / h + eps);
            for (long j = 0; j < h; j++)
            {
                y[r * h + j] = (s[r * h + j] - mean) * invStd * gamma[j % gamma.Length] + (beta is null ? 0 : beta[j % beta.Length]);
            }

            means[r] = mean;
            inv[r] = invStd;
        }

        return (y, means, inv);
    }

    private static IReadOnlyList<NDArray> SkipNorm(KernelContext k, bool simplified)
    {
        var x = k.In(0);
        var skip = k.In(1);
        var gamma = k.In(2).AsDoubles();
        var beta = simplified ? null : k.Input(3)?.AsDoubles();
        var bias = k.Input(simplified ? 3 : 4)?.AsDoubles();
        if (x.Rank < 1)
        {
            throw new EvalException("skip layer normalization needs an input of rank >= 1");
        }

        long h = x.Shape[^1];
        var xd = x.AsDoubles();
        var sd = skip.AsDoubles();
        var si = NDArray.BroadcastIndex(skip.Shape, x.Shape);
        var sum = new double[xd.LongLength];
        for (long i = 0; i < sum.LongLength; i++)
        {
            sum[i] = xd[i] + sd[si[i]] + (bias is null ? 0 : bias[i % h % bias.Length]);
        }

        // The sum output is in the input's type, and the normalization reads the rounded sum as ONNX Runtime does.
        var sumArr = NDArray.Create(x.ElementType, x.Shape, sum);
        var (y, mean, inv) = NormalizeRows(sumArr.F ?? sumArr.AsDoubles(), h, gamma, beta, k.Float("epsilon", 1e-12), simplified);
        var statShape = x.Shape[..^1].Append(1).ToArray();
        return Outs(k,
            NDArray.Create(x.ElementType, x.Shape, y),
            NDArray.Create(ResultType(k, 1, FloatType.F32), statShape, mean),
            NDArray.Create(ResultType(k, 2, FloatType.F32), statShape, inv),
            sumArr);
    }

    private static IReadOnlyList<NDArray> SkipLayerNormalization(KernelContext k) => SkipNorm(k, false);
    private static IReadOnlyList<NDArray> SkipSimplifiedLayerNormalization(KernelContext k) => SkipNorm(k, true);

    private static IReadOnlyList<NDArray> SimplifiedLayerNormalization(KernelContext k)
    {
        var x = k.In(0);
        int axis = KernelContext.Axis(k.Int("axis", -1), x.Rank);
        long h = NDArray.Count(x.Shape[axis..]);
        var scale = k.In(1);
        var gamma = scale.Length == h ? scale.AsDoubles() : scale.BroadcastTo(x.Shape[axis..]).AsDoubles();
        var (y, _, inv) = NormalizeRows(x.AsDoubles(), h, gamma, null, k.Float("epsilon", 1e-5), true);
        var statShape = x.Shape.Select((d, i) => i < axis ? d : 1).ToArray();
        return Outs(k, NDArray.Create(x.ElementType, x.Shape, y), NDArray.Create(ResultType(k, 1, FloatType.F32), statShape, inv));
    }

    /// <summary>
    /// Rotary position embedding of x [B, N, S, D] or [B, S, N*D]. Positions: <paramref name="pos"/> [B, S] indexes the
    /// caches [P, R/2]; a single value is an offset (com.microsoft); absent, the caches are [B, S, R/2].
    /// </summary>
    private static IReadOnlyList<NDArray> Rope(KernelContext k, NDArray x, NDArray? pos, NDArray cos, NDArray sin)
    {
        bool interleaved = k.Int("interleaved", 0) != 0;
        long half = cos.Shape[^1], rdim = k.Int("rotary_embedding_dim", 0) is > 0 and var rd ? rd : 2 * half;
        if (rdim != 2 * half)
        {
            throw new EvalException($"rotary_embedding_dim {rdim} does not match the cos cache's last dim {half}");
        }

        long b, s, n, d;
        bool fourD = x.Rank == 4;
        if (fourD)
        {
            (b, n, s, d) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
        }
        else if (x.Rank == 3)
        {
            (b, s) = (x.Shape[0], x.Shape[1]);
            long numHeads = k.Int("num_heads", 0);
            d = numHeads > 0 ? x.Shape[2] / numHeads : rdim;
            n = d == 0 ? 0 : x.Shape[2] / d;
            if (n * d != x.Shape[2])
            {
                throw new EvalException($"hidden size {x.Shape[2]} is not a multiple of the head size {d}");
            }
        }
        else
        {
            throw new EvalException($"RotaryEmbedding needs an input of rank 3 or 4, got {x.Rank}");
        }

        if (rdim > d)
        {
            throw new EvalException($"rotary dim {rdim} exceeds the head size {d}");
        }

        var xd = x.AsDoubles();
        var cd = cos.AsDoubles();
        var sdn = sin.AsDoubles();
        var pd = pos?.AsLongs();
        var y = (double[])xd.Clone();
        for (long bi = 0; bi < b; bi++)
        {
            for (long si = 0; si < s; si++)
            {
                long row;
                if (pd is null)
                {
                    row = bi * s + si;
                }
                else
                {
                    row = pd.Length == 1 ? pd[0] + si : pd[bi * s + si];
                }

                if (row < 0 || (row + 1) * half > cd.LongLength)
                {
                    throw new EvalException($"position {row} is outside the cos/sin cache");
                }

                for (long hi = 0; hi < n; hi++)
                {
                    long off = fourD ? ((bi * n + hi) * s + si) * d : (bi * s + si) * n * d + hi * d;
                    for (long j = 0; j < half; j++)
                    {
                        double c = cd[row * half + j], sn = sdn[row * half + j];
                        long i1 = interleaved ? off + 2 * j : off + j, i2 = interleaved ? i1 + 1 : i1 + half;
                        double x1 = xd[i1], x2 = xd[i2];
                        y[i1] = c * x1 - sn * x2;
                        y[i2] = sn * x1 + c * x2;
                    }
                }
            }
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> MsRotaryEmbedding(KernelContext k) => Rope(k, k.In(0), k.In(1), k.In(2), k.In(3));
    private static IReadOnlyList<NDArray> RotaryEmbedding(KernelContext k) => Rope(k, k.In(0), k.Input(3), k.In(1), k.In(2));

    private static IReadOnlyList<NDArray> MatMulNBits(KernelContext k)
    {
        var a = k.In(0);
        long kk = k.Int("K", 0), n = k.Int("N", 0), bits = k.Int("bits", 4), block = k.Int("block_size", 0);
        if (kk <= 0 || n <= 0 || block <= 0 || bits is < 1 or > 8)
        {
            throw new EvalException("MatMulNBits needs positive K, N, block_size and bits in 1..8");
        }

        var bq = k.In(1).AsLongs();
        var scales = k.In(2).AsDoubles();
        var zp = k.Input(3);
        var gIdx = k.Input(4)?.AsLongs();
        var bias = k.Input(5)?.AsDoubles();
        long kBlocks = (kk + block - 1) / block, blob = block * bits / 8, mask = (1L << (int)bits) - 1;
        long zpRow = (kBlocks * bits + 7) / 8;
        var zd = zp?.AsDoubles();
        bool zpPacked = zp is { ElementType: IntegerType };
        double defaultZp = 1L << (int)(bits - 1);
        if (bq.LongLength < n * kBlocks * blob || scales.LongLength < n * kBlocks)
        {
            throw new EvalException("MatMulNBits: B or scales is smaller than N * blocks");
        }

        // W^T [K, N], dequantized.
        var w = new double[kk * n];
        for (long col = 0; col < n; col++)
        {
            for (long t = 0; t < kk; t++)
            {
                long blk = gIdx is null ? t / block : gIdx[t], within = t % block;
                long bitPos = within * bits;
                long q = (bq[col * kBlocks * blob + t / block * blob + bitPos / 8] >> (int)(bitPos % 8)) & mask;
                double z = defaultZp;
                if (zd is not null)
                {
                    if (zpPacked)
                    {
                        long zb = blk * bits;
                        z = ((long)zd[col * zpRow + zb / 8] >> (int)(zb % 8)) & mask;
                    }
                    else
                    {
                        z = zd[col * kBlocks + blk];
                    }
                }

                w[t * n + col] = (q - z) * scales[col * kBlocks + blk];
            }
        }

        var (y, shape) = MatMul(a.AsDoubles(), a.Shape, w, [kk, n]);
        if (bias is not null)
        {
            for (long i = 0; i < y.LongLength; i++)
            {
                y[i] += bias[i % n];
            }
        }

        return [NDArray.Create(a.ElementType, shape, y)];
    }
}
