using static Tessera.Dialects.Graph.ElementwiseOpsHelpers;
using static Tessera.Dialects.Graph.ReductionOpsHelpers;

namespace Tessera.Dialects.Graph;

/// <summary>
/// The raised transformer ops: no ONNX op imports to them; the graph-raise-* passes create them from the subgraphs
/// PyTorch exports. Each kernel computes the same function as the subgraph it replaces, in double precision.
/// graph.gelu is ONNX Gelu's op (ElementwiseOps), whose approximate attribute the raising pass sets.
/// </summary>
public static partial class TransformerOps
{
    public static IEnumerable<GraphOpInfo> Ops =>
    [
        new("graph.rms_norm", null, "", 1, RmsNorm) { Summary = "x / sqrt(mean(x^2 over axis..rank) + epsilon) * weight" },
        new("graph.layer_norm", null, "", 1, LayerNorm) { Summary = "(x - mean) / sqrt(var + epsilon) * weight + bias over axis..rank; bias may be graph.none" },
        new("graph.silu", null, "", 1, Silu) { Summary = "x * sigmoid(x)" },
        new("graph.rope", null, "", 1, Rope) { Summary = "rotary embedding x * cos + rotate(x) * sin; rotate_half (interleaved = 0) or pairwise (interleaved = 1) on the last axis" },
        new("graph.sdpa", null, "", 1, Sdpa) { Summary = "softmax(q k^T * scale + mask) v with grouped-query heads; mask is additive float, boolean (true = attend) or graph.none" },
    ];

    private static bool[] Trailing(int rank, int from) => Enumerable.Range(0, rank).Select(d => d >= from).ToArray();

    private static IReadOnlyList<NDArray> RmsNorm(KernelContext k)
    {
        var x = k.In(0);
        int axis = KernelContext.Axis(k.Int("axis", -1), x.Rank);
        double eps = k.Float("epsilon", 1e-5f);
        var v = x.AsDoubles();
        var map = GroupIndex(x.Shape, Trailing(x.Rank, axis), out long groups);
        var ms = new double[groups];
        var count = new long[groups];
        for (long i = 0; i < v.LongLength; i++)
        {
            ms[map[i]] += v[i] * v[i];
            count[map[i]]++;
        }

        var inv = ms.Select((s, g) => 1 / Math.Sqrt((s / count[g]) + eps)).ToArray();
        var w = DoublesAs(k.In(1), x.Shape);
        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = v[i] * inv[map[i]] * w[i];
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> LayerNorm(KernelContext k)
    {
        var x = k.In(0);
        int axis = KernelContext.Axis(k.Int("axis", -1), x.Rank);
        double eps = k.Float("epsilon", 1e-5f);
        var v = x.AsDoubles();
        var map = GroupIndex(x.Shape, Trailing(x.Rank, axis), out long groups);
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

        var inv = var.Select((s, g) => 1 / Math.Sqrt((s / count[g]) + eps)).ToArray();
        var w = DoublesAs(k.In(1), x.Shape);
        var b = k.Input(2) is { } bias ? DoublesAs(bias, x.Shape) : null;
        var y = new double[v.LongLength];
        for (long i = 0; i < y.LongLength; i++)
        {
            y[i] = ((v[i] - mean[map[i]]) * inv[map[i]] * w[i]) + (b is null ? 0 : b[i]);
        }

        return [NDArray.Create(x.ElementType, x.Shape, y)];
    }

    private static IReadOnlyList<NDArray> Silu(KernelContext k) => [UnaryF(k.In(0), v => v * Sigmoid(v))];
}
