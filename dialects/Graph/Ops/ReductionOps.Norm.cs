using static Tessera.Dialects.Graph.ReductionOpsHelpers;

namespace Tessera.Dialects.Graph;

public static partial class ReductionOps
{
    /// <summary>Population mean and variance of each group of <paramref name="v"/> (two passes).</summary>
    private static (double[] Mean, double[] Var) MeanVar(double[] v, long[] map, long groups)
    {
        var mean = new double[groups];
        var var = new double[groups];
        var count = new long[groups];
        for (long i = 0; i < v.LongLength; i++)
        {
            mean[map[i]] += v[i];
            count[map[i]]++;
        }

        for (long g = 0; g < groups; g++)
        {
            mean[g] /= count[g];
        }

        for (long i = 0; i < v.LongLength; i++)
        {
            double d = v[i] - mean[map[i]];
            var[map[i]] += d * d;
        }

        for (long g = 0; g < groups; g++)
        {
            var[g] /= count[g];
        }

        return (mean, var);
    }

    private static bool[] TrailingMask(int rank, int from) => Enumerable.Range(0, rank).Select(d => d >= from).ToArray();

    /// <summary>The first <c>max(1, op's result count)</c> of <paramref name="outs"/>.</summary>
    private static IReadOnlyList<NDArray> Take(KernelContext k, params NDArray[] outs) => outs.Take(Math.Max(1, Math.Min(outs.Length, k.Op.NumResults))).ToList();

    internal static IReadOnlyList<NDArray> LayerNormalization(KernelContext k)
    {
        var x = k.In(0);
        int axis = KernelContext.Axis(k.Int("axis", -1), x.Rank);
        double eps = k.Float("epsilon", 1e-5);
        var v = x.AsDoubles();
        var map = GroupIndex(x.Shape, TrailingMask(x.Rank, axis), out long groups);
        var (mean, var) = MeanVar(v, map, groups);
        var inv = var.Select(s => 1 / Math.Sqrt(s + eps)).ToArray();
        var scale = DoublesAs(k.In(1), x.Shape);
        var bias = k.Input(2) is { } b ? DoublesAs(b, x.Shape) : null;
        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = (v[i] - mean[map[i]]) * inv[map[i]] * scale[i] + (bias is null ? 0 : bias[i]);
        }

        var statShape = x.Shape.Select((d, i) => i < axis ? d : 1).ToArray();
        return Take(
            k,
            NDArray.Create(x.ElementType, x.Shape, y),
            NDArray.Create(OutType(k, 1, x.ElementType), statShape, mean),
            NDArray.Create(OutType(k, 2, x.ElementType), statShape, inv));
    }

    internal static IReadOnlyList<NDArray> RmsNormalization(KernelContext k)
    {
        var x = k.In(0);
        int axis = KernelContext.Axis(k.Int("axis", -1), x.Rank);
        double eps = k.Float("epsilon", 1e-5);
        var v = x.AsDoubles();
        var map = GroupIndex(x.Shape, TrailingMask(x.Rank, axis), out long groups);
        var ms = new double[groups];
        var count = new long[groups];
        for (long i = 0; i < v.LongLength; i++)
        {
            ms[map[i]] += v[i] * v[i];
            count[map[i]]++;
        }

        var inv = ms.Select((s, g) => 1 / Math.Sqrt(s / count[g] + eps)).ToArray();
        var scale = DoublesAs(k.In(1), x.Shape);
        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = v[i] * inv[map[i]] * scale[i];
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> BatchNormalization(KernelContext k)
    {
        var x = k.In(0);
        int opset = OpsetOf(k);
        long c = x.Rank >= 2 ? x.Shape[1] : 1;
        double eps = k.Float("epsilon", 1e-5), momentum = k.Float("momentum", 0.9);
        bool training = opset >= 14 ? k.Int("training_mode", 0) != 0 : opset >= 7 && k.Op.NumResults > 1;
        double[] Channel(int i) => k.In(i).Length == c ? k.In(i).AsDoubles() : throw new EvalException($"BatchNormalization input #{i} must hold {c} values");
        var scale = Channel(1);
        var bias = Channel(2);
        var inMean = Channel(3);
        var inVar = Channel(4);
        var v = x.AsDoubles();
        long inner = x.Rank >= 2 ? Prod(x.Shape, 2, x.Rank) : 1;
        long ch(long i) => i / inner % c;
        var mean = inMean;
        var var = inVar;
        if (training)
        {
            var map = new long[v.LongLength];
            for (long i = 0; i < map.LongLength; i++)
            {
                map[i] = ch(i);
            }

            (mean, var) = MeanVar(v, map, c);
        }

        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            long q = ch(i);
            y[i] = (v[i] - mean[q]) / Math.Sqrt(var[q] + eps) * scale[q] + bias[q];
        }

        var yArr = NDArray.Create(x.ElementType, x.Shape, y);
        if (!training)
        {
            return [yArr];
        }

        var runMean = inMean.Select((m, q) => m * momentum + mean[q] * (1 - momentum)).ToArray();
        var runVar = inVar.Select((s, q) => s * momentum + var[q] * (1 - momentum)).ToArray();
        var t = k.In(3).ElementType;
        return Take(
            k,
            yArr,
            NDArray.Create(OutType(k, 1, t), [c], runMean),
            NDArray.Create(OutType(k, 2, t), [c], runVar),
            NDArray.Create(OutType(k, 3, t), [c], mean),
            NDArray.Create(OutType(k, 4, t), [c], var.Select(s => 1 / Math.Sqrt(s + eps)).ToArray()));
    }

    private static IReadOnlyList<NDArray> InstanceNormalization(KernelContext k)
    {
        var x = k.In(0);
        if (x.Rank < 2)
        {
            throw new EvalException("InstanceNormalization needs an input of rank at least 2");
        }

        double eps = k.Float("epsilon", 1e-5);
        long c = x.Shape[1];
        var scale = k.In(1).AsDoubles();
        var bias = k.In(2).AsDoubles();
        if (scale.Length != c || bias.Length != c)
        {
            throw new EvalException($"InstanceNormalization's scale and B must hold {c} values");
        }

        var v = x.AsDoubles();
        var map = GroupIndex(x.Shape, TrailingMask(x.Rank, 2), out long groups);
        var (mean, var) = MeanVar(v, map, groups);
        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            long g = map[i], q = g % c;
            y[i] = (v[i] - mean[g]) / Math.Sqrt(var[g] + eps) * scale[q] + bias[q];
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> GroupNormalization(KernelContext k)
    {
        var x = k.In(0);
        if (x.Rank < 2)
        {
            throw new EvalException("GroupNormalization needs an input of rank at least 2");
        }

        long groupsPer = k.OptInt("num_groups") ?? throw new EvalException("GroupNormalization needs num_groups");
        double eps = k.Float("epsilon", 1e-5);
        long n = x.Shape[0], c = x.Shape[1];
        if (groupsPer <= 0 || c % groupsPer != 0)
        {
            throw new EvalException($"{c} channels do not split into {groupsPer} groups");
        }

        var scale = k.In(1).AsDoubles();
        var bias = k.In(2).AsDoubles();

        // Opset 18 gives scale and bias per group, opset 21 per channel.
        bool perChannel = OpsetOf(k) >= 21 || (scale.Length == c && scale.Length != groupsPer);
        long expect = perChannel ? c : groupsPer;
        if (scale.Length != expect || bias.Length != expect)
        {
            throw new EvalException($"GroupNormalization's scale and bias must hold {expect} values");
        }

        var v = x.AsDoubles();
        long spatial = Prod(x.Shape, 2, x.Rank);
        long per = c / groupsPer * spatial;
        var map = new long[v.LongLength];
        for (long i = 0; i < map.LongLength; i++)
        {
            map[i] = i / per;
        }

        var (mean, var) = MeanVar(v, map, n * groupsPer);
        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            long g = map[i];
            long q = perChannel ? i / spatial % c : g % groupsPer;
            y[i] = (v[i] - mean[g]) / Math.Sqrt(var[g] + eps) * scale[q] + bias[q];
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> LpNormalization(KernelContext k)
    {
        var x = k.In(0);
        if (x.Rank == 0)
        {
            return [x];
        }

        long p = k.Int("p", 2);
        if (p is not (1 or 2))
        {
            throw new EvalException($"LpNormalization's p must be 1 or 2, not {p}");
        }

        var (outer, n, inner) = Lanes(x.Shape, KernelContext.Axis(k.Int("axis", -1), x.Rank));
        var v = x.AsDoubles();
        var y = new double[v.LongLength];
        for (long o = 0; o < outer; o++)
        {
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                double s = 0;
                for (long j = 0; j < n; j++)
                {
                    double e = v[b + j * inner];
                    s += p == 1 ? Math.Abs(e) : e * e;
                }

                double norm = p == 1 ? s : Math.Sqrt(s);
                for (long j = 0; j < n; j++)
                {
                    y[b + j * inner] = norm == 0 ? 0 : v[b + j * inner] / norm; // the ONNX reference maps an all-zero slice to zeros
                }
            }
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> MeanVarianceNormalization(KernelContext k)
    {
        var x = k.In(0);
        var axes = k.Ints("axes") ?? [0, 2, 3];
        var v = x.AsDoubles();
        var map = GroupIndex(x.Shape, AxisMask(axes, x.Rank), out long groups);
        var (mean, var) = MeanVar(v, map, groups);
        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = (v[i] - mean[map[i]]) / (Math.Sqrt(var[map[i]]) + 1e-9);
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }
}
