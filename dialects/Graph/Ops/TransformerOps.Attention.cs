using static Tessera.Dialects.Graph.ReductionOpsHelpers;

namespace Tessera.Dialects.Graph;

// Rotary embedding and scaled dot-product attention.
public static partial class TransformerOps
{
    private static string Shape(NDArray a) => $"[{string.Join(", ", a.Shape)}]";

    /// <summary>
    /// x * cos + rotate(x) * sin, with cos and sin broadcast against x (the result has the broadcast shape, like the
    /// Mul/Add subgraph it replaces). rotate is rotate_half, concat(-x[..., d/2:], x[..., :d/2]), when interleaved = 0,
    /// and the pairwise (-x1, x0, -x3, x2, ...) rotation when interleaved = 1.
    /// </summary>
    private static IReadOnlyList<NDArray> Rope(KernelContext k)
    {
        var x = k.In(0);
        var cos = k.In(1);
        var sin = k.In(2);
        bool interleaved = k.Int("interleaved", 0) != 0;
        var shape = NDArray.BroadcastShape(NDArray.BroadcastShape(x.Shape, cos.Shape), sin.Shape);
        if (x.Rank == 0 || shape.Length == 0 || x.Shape[^1] != shape[^1] || x.Shape[^1] % 2 != 0)
        {
            throw new EvalException($"rope needs x with an even last dimension equal to the broadcast result's; x is {Shape(x)}, cos {Shape(cos)}, sin {Shape(sin)}");
        }

        long d = shape[^1], half = d / 2;
        var xv = DoublesAs(x, shape);
        var cv = DoublesAs(cos, shape);
        var sv = DoublesAs(sin, shape);
        var y = new double[xv.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            long j = i % d, row = i - j;
            double rot = interleaved
                ? (j % 2 == 0 ? -xv[i + 1] : xv[i - 1])
                : (j < half ? -xv[row + j + half] : xv[row + j - half]);
            y[i] = (xv[i] * cv[i]) + (rot * sv[i]);
        }

        return [NDArray.Create(x.ElementType, shape, y)];
    }

    /// <summary>
    /// softmax(q k^T * scale + mask) v. q is [B, Hq, S, D]; k is [Bk, Hkv, T, D] and v [Bv, Hkv, T, Dv] with Bk, Bv
    /// 1 or B and Hq a multiple of Hkv (query head h reads kv head h / (Hq / Hkv)). The mask broadcasts to
    /// [B, Hq, S, T]: a float mask is added, a boolean one keeps the true positions (false is -inf). is_causal = 1
    /// also masks key j > query i. scale defaults to 1/sqrt(D).
    /// </summary>
    private static IReadOnlyList<NDArray> Sdpa(KernelContext k)
    {
        var q = k.In(0);
        var kk = k.In(1);
        var v = k.In(2);
        var mask = k.Input(3);
        if (q.Rank != 4 || kk.Rank != 4 || v.Rank != 4)
        {
            throw new EvalException($"sdpa needs rank-4 q, k, v; got {Shape(q)}, {Shape(kk)}, {Shape(v)}");
        }

        long b = q.Shape[0], hq = q.Shape[1], s = q.Shape[2], d = q.Shape[3];
        long hkv = kk.Shape[1], t = kk.Shape[2], dv = v.Shape[3];
        if (kk.Shape[3] != d || v.Shape[1] != hkv || v.Shape[2] != t || hkv == 0 || hq % hkv != 0
            || kk.Shape[0] is var bk && bk != b && bk != 1 || v.Shape[0] is var bv && bv != b && bv != 1)
        {
            throw new EvalException($"sdpa: q {Shape(q)}, k {Shape(kk)}, v {Shape(v)} do not fit [B, Hq, S, D], [B, Hkv, T, D], [B, Hkv, T, Dv] with Hq a multiple of Hkv");
        }

        double scale = k.Float("scale", 1 / Math.Sqrt(d));
        bool causal = k.Int("is_causal", 0) != 0;
        long[] scoreShape = [b, hq, s, t];
        double[]? add = null;
        if (mask is not null)
        {
            var target = NDArray.BroadcastShape(mask.Shape, scoreShape);
            if (!target.SequenceEqual(scoreShape))
            {
                throw new EvalException($"sdpa: mask {Shape(mask)} does not broadcast to [{string.Join(", ", scoreShape)}]");
            }

            var m = DoublesAs(mask, scoreShape);
            add = mask.IsFloat ? m : m.Select(e => e != 0 ? 0.0 : double.NegativeInfinity).ToArray();
        }

        var qv = q.AsDoubles();
        var kv = kk.AsDoubles();
        var vv = v.AsDoubles();
        long rep = hq / hkv;
        var y = new double[b * hq * s * dv];
        var scores = new double[t];
        for (long bi = 0; bi < b; bi++)
        {
            for (long h = 0; h < hq; h++)
            {
                long kh = h / rep;
                long kBase = (((kk.Shape[0] == 1 ? 0 : bi) * hkv) + kh) * t * d;
                long vBase = (((v.Shape[0] == 1 ? 0 : bi) * hkv) + kh) * t * dv;
                for (long i = 0; i < s; i++)
                {
                    long qBase = (((bi * hq) + h) * s + i) * d;
                    long mBase = (((bi * hq) + h) * s + i) * t;
                    double max = double.NegativeInfinity;
                    for (long j = 0; j < t; j++)
                    {
                        double acc = 0;
                        for (long e = 0; e < d; e++)
                        {
                            acc += qv[qBase + e] * kv[kBase + (j * d) + e];
                        }

                        acc *= scale;
                        if (add is not null)
                        {
                            acc += add[mBase + j];
                        }

                        if (causal && j > i)
                        {
                            acc = double.NegativeInfinity;
                        }

                        scores[j] = acc;
                        max = Math.Max(max, acc);
                    }

                    double sum = 0;
                    for (long j = 0; j < t; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }

                    long oBase = (((bi * hq) + h) * s + i) * dv;
                    for (long j = 0; j < t; j++)
                    {
                        double p = scores[j] / sum;
                        for (long e = 0; e < dv; e++)
                        {
                            y[oBase + e] += p * vv[vBase + (j * dv) + e];
                        }
                    }
                }
            }
        }

        return [NDArray.Create(q.ElementType, [b, hq, s, dv], y)];
    }
}
