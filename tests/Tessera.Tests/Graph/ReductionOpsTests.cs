using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Tests.Graph;

public class ReductionOpsTests
{
    private static readonly Context Ctx = Tessera.Dialects.Contexts.CreateDefault();

    private static NDArray F(long[] shape, params double[] v) => NDArray.Create(FloatType.F32, shape, v);
    private static NDArray L(long[] shape, params long[] v) => NDArray.Create(IntegerType.I64, shape, v);

    /// <summary>Runs the op-table kernel of <paramref name="irName"/> on an op carrying <paramref name="attrs"/>.</summary>
    private static IReadOnlyList<NDArray> Run(string irName, NDArray?[] inputs, int opset = 0, int results = 1, params (string Name, Attribute Value)[] attrs)
    {
        var info = GraphDialect.Info(irName) ?? throw new InvalidOperationException($"no row for {irName}");
        var state = new OperationState("graph.x", Location.Unknown);
        for (int i = 0; i < results; i++)
        {
            state.AddTypes(new TensorType([new Dim(1)], FloatType.F32));
        }

        foreach (var (n, v) in attrs)
        {
            state.AddAttr(n, v);
        }

        var op = Operation.Create(Ctx, state);
        return info.Kernel(new KernelContext(op, inputs, opset));
    }

    private static (string, Attribute) I(string n, long v) => (n, IntegerAttr.I64(v));
    private static (string, Attribute) Fl(string n, double v) => (n, new FloatAttr(v, FloatType.F32));
    private static (string, Attribute) Is(string n, params long[] v) => (n, ArrayAttr.OfInts(v));

    private static void Near(double[] expected, NDArray actual, double tol = 1e-5)
    {
        var a = actual.AsDoubles();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - a[i]) <= tol * (1 + Math.Abs(expected[i])) || expected[i].Equals(a[i]), $"element {i}: expected {expected[i]}, got {a[i]}");
        }
    }

    [Fact]
    public void ReduceSum_axes_input_and_attribute_by_opset()
    {
        var x = F([2, 2], 1, 2, 3, 4);
        var r = Run("graph.reduce_sum", [x, L([1], 1)], opset: 13, attrs: I("keepdims", 0))[0];
        Assert.Equal([2L], r.Shape);
        Near([3, 7], r);

        var old = Run("graph.reduce_sum", [x], opset: 11, attrs: Is("axes", 0))[0];
        Assert.Equal([1L, 2], old.Shape);
        Near([4, 6], old);

        var all = Run("graph.reduce_mean", [x], opset: 18)[0];
        Assert.Equal([1L, 1], all.Shape);
        Near([2.5], all);
    }

    [Fact]
    public void Reduce_empty_sets_and_noop()
    {
        var empty = F([2, 0]);
        Near([double.NegativeInfinity, double.NegativeInfinity], Run("graph.reduce_max", [empty, L([1], 1)], opset: 18)[0]);
        Near([1, 1], Run("graph.reduce_prod", [empty, L([1], 1)], opset: 18)[0]);
        Near([0, 0], Run("graph.reduce_l2", [empty, L([1], 1)], opset: 18)[0]);
        Near([double.NegativeInfinity, double.NegativeInfinity], Run("graph.reduce_log_sum_exp", [empty, L([1], 1)], opset: 18)[0]);

        var x = F([2], 1, 2);
        var same = Run("graph.reduce_sum", [x, L([0])], opset: 13, attrs: I("noop_with_empty_axes", 1))[0];
        Near([1, 2], same);
    }

    [Fact]
    public void Reduce_values_logsumexp_integers_and_nan()
    {
        Near([Math.Log(Math.E + Math.Exp(2))], Run("graph.reduce_log_sum_exp", [F([1, 2], 1, 2)], opset: 18)[0]);
        Near([Math.Sqrt(25)], Run("graph.reduce_l2", [F([2], 3, -4)], opset: 18)[0]);
        Near([7], Run("graph.reduce_l1", [F([2], 3, -4)], opset: 18)[0]);
        var mean = Run("graph.reduce_mean", [L([3], 1, 2, 2)], opset: 18, attrs: I("keepdims", 0))[0];
        Assert.Equal(IntegerType.I64, mean.ElementType);
        Assert.Equal([1L], mean.I!);
        Assert.True(double.IsNaN(Run("graph.reduce_max", [F([3], 1, double.NaN, 2)], opset: 18)[0].F![0]));
        var min = Run("graph.reduce_min", [NDArray.Create(IntegerType.I8, [2], [5L, -3L])], opset: 18)[0];
        Assert.Equal([-3L], min.I!);
    }

    [Fact]
    public void ArgMax_and_ArgMin_with_ties()
    {
        var x = F([4], 2, 5, 5, 1);
        Assert.Equal([1L], Run("graph.arg_max", [x])[0].I!);
        Assert.Equal([2L], Run("graph.arg_max", [x], attrs: I("select_last_index", 1))[0].I!);
        var m = F([2, 3], 3, 1, 2, 0, 4, 0);
        var r = Run("graph.arg_min", [m], attrs: [I("axis", -1), I("keepdims", 0), I("select_last_index", 1)])[0];
        Assert.Equal([2L], r.Shape);
        Assert.Equal([1L, 2L], r.I!);
    }

    [Fact]
    public void Softmax_axis_semantics_differ_before_opset_13()
    {
        var x = F([2, 2], 1, 2, 3, 4);
        double a = 1 / (1 + Math.Exp(2));
        Near([a, a, 1 - a, 1 - a], Run("graph.softmax", [x], opset: 13, attrs: I("axis", 0))[0]);

        double s = Math.Exp(1) + Math.Exp(2) + Math.Exp(3) + Math.Exp(4);
        Near([Math.Exp(1) / s, Math.Exp(2) / s, Math.Exp(3) / s, Math.Exp(4) / s], Run("graph.softmax", [x], opset: 11, attrs: I("axis", 0))[0]);

        double l = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        Near([1 - l, 2 - l, 3 - l], Run("graph.log_softmax", [F([1, 3], 1, 2, 3)], opset: 13)[0]);
        Near([0, 1, 0, 0, 1, 0], Run("graph.hardmax", [F([2, 3], 1, 3, 3, 0, 9, 2)], opset: 13)[0]);
    }

    [Fact]
    public void MatMul_vectors_and_batch_broadcast()
    {
        var r = Run("graph.mat_mul", [F([2], 1, 2), F([2, 3], 1, 2, 3, 4, 5, 6)])[0];
        Assert.Equal([3L], r.Shape);
        Near([9, 12, 15], r);

        var b = Run("graph.mat_mul", [F([2, 1, 2], 1, 0, 0, 1), F([2, 2], 1, 2, 3, 4)])[0];
        Assert.Equal([2L, 1, 2], b.Shape);
        Near([1, 2, 3, 4], b);

        var i = Run("graph.mat_mul", [L([1, 2], 2, 3), L([2], 4, 5)])[0];
        Assert.Equal([1L], i.Shape);
        Assert.Equal([23L], i.I!);
    }

    [Fact]
    public void Gemm_transposes_alpha_beta_and_bias_broadcast()
    {
        // A' = [[1, 3], [2, 4]], B' = I, C = [10, 20] broadcast over rows.
        var r = Run("graph.gemm", [F([2, 2], 1, 2, 3, 4), F([2, 2], 1, 0, 0, 1), F([2], 10, 20)],
            attrs: [I("transA", 1), I("transB", 1), Fl("alpha", 2), Fl("beta", 0.5)])[0];
        Near([7, 16, 9, 18], r);
        Near([1, 2, 3, 4], Run("graph.gemm", [F([2, 2], 1, 2, 3, 4), F([2, 2], 1, 0, 0, 1)])[0]);
    }

    [Fact]
    public void MatMulInteger_spec_example()
    {
        var a = NDArray.Create(IntegerType.U8, [4, 3], [11L, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0]);
        var b = NDArray.Create(IntegerType.U8, [3, 2], [1L, 4, 2, 5, 3, 6]);
        var r = Run("graph.mat_mul_integer", [a, b, NDArray.Create(IntegerType.U8, [], [12L]), NDArray.Create(IntegerType.U8, [], [0L])])[0];
        Assert.Equal([4L, 2], r.Shape);
        Assert.Equal([-38L, -83, -44, -98, -50, -113, -56, -128], r.I!);
    }

    [Fact]
    public void Einsum_matmul_diagonal_trace_and_ellipsis()
    {
        Near([19, 22, 43, 50], Run("graph.einsum", [F([2, 2], 1, 2, 3, 4), F([2, 2], 5, 6, 7, 8)], attrs: ("equation", new StringAttr("ij,jk->ik")))[0]);
        Near([1, 4], Run("graph.einsum", [F([2, 2], 1, 2, 3, 4)], attrs: ("equation", new StringAttr("ii->i")))[0]);
        var trace = Run("graph.einsum", [F([2, 2], 1, 2, 3, 4)], attrs: ("equation", new StringAttr("ii")))[0];
        Assert.Empty(trace.Shape);
        Near([5], trace);
        var t = Run("graph.einsum", [F([1, 2, 3], 1, 2, 3, 4, 5, 6)], attrs: ("equation", new StringAttr("...ij->...ji")))[0];
        Assert.Equal([1L, 3, 2], t.Shape);
        Near([1, 4, 2, 5, 3, 6], t);
        Near([12], Run("graph.einsum", [F([3], 1, 2, 3), F([3], 2, 2, 2)], attrs: ("equation", new StringAttr("i,i")))[0]);
    }

    [Fact]
    public void LayerNormalization_with_statistics()
    {
        var r = Run("graph.layer_normalization", [F([1, 3], 1, 2, 3), F([3], 1, 1, 2), F([3], 0, 0, 1)], results: 3, attrs: Fl("epsilon", 0));
        double z = Math.Sqrt(1.5);
        Near([-z, 0, 2 * z + 1], r[0]);
        Assert.Equal([1L, 1], r[1].Shape);
        Near([2], r[1]);
        Near([1 / Math.Sqrt(2.0 / 3)], r[2]);
        Assert.Single(Run("graph.layer_normalization", [F([1, 3], 1, 2, 3), F([3], 1, 1, 1)]));
    }

    [Fact]
    public void BatchNormalization_inference_and_training()
    {
        // x: N=1, C=2, 2 elements per channel.
        var x = F([1, 2, 2], 1, 3, 2, 6);
        var y = Run("graph.batch_normalization", [x, F([2], 1, 2), F([2], 0, 1), F([2], 2, 4), F([2], 1, 4)], opset: 15, attrs: Fl("epsilon", 0))[0];
        Near([-1, 1, -1, 3], y);

        var t = Run("graph.batch_normalization", [x, F([2], 1, 1), F([2], 0, 0), F([2], 0, 0), F([2], 1, 1)], opset: 15, results: 3,
            attrs: [Fl("epsilon", 0), I("training_mode", 1), Fl("momentum", 0.5)]);
        Near([-1, 1, -1, 1], t[0]);
        Near([1, 2], t[1]);
        Near([1, 2.5], t[2]);
    }

    [Fact]
    public void Instance_group_and_rms_normalization()
    {
        var x = F([1, 2, 2], 1, 3, 10, 20);
        Near([-1, 1, -2 + 1, 2 + 1], Run("graph.instance_normalization", [x, F([2], 1, 2), F([2], 0, 1)], attrs: Fl("epsilon", 0))[0]);

        // One group over all four values: mean 8.5, std sqrt(55.25).
        double sd = Math.Sqrt(55.25);
        double[] n = [(1 - 8.5) / sd, (3 - 8.5) / sd, (10 - 8.5) / sd, (20 - 8.5) / sd];
        Near(n.Select(v => v * 2).ToArray(), Run("graph.group_normalization", [x, F([1], 2), F([1], 0)], opset: 18, attrs: [I("num_groups", 1), Fl("epsilon", 0)])[0]);
        Near([n[0], n[1], n[2] * 3 + 1, n[3] * 3 + 1], Run("graph.group_normalization", [x, F([2], 1, 3), F([2], 0, 1)], opset: 21, attrs: [I("num_groups", 1), Fl("epsilon", 0)])[0]);

        double rms = Math.Sqrt((9 + 16) / 2.0);
        Near([3 / rms, 4 * 2 / rms], Run("graph.rms_normalization", [F([1, 2], 3, 4), F([2], 1, 2)], attrs: Fl("epsilon", 0))[0]);
    }

    [Fact]
    public void Lp_and_mean_variance_normalization()
    {
        Near([0.6, 0.8], Run("graph.lp_normalization", [F([1, 2], 3, 4)])[0]);
        Near([3.0 / 7, -4.0 / 7], Run("graph.lp_normalization", [F([1, 2], 3, -4)], attrs: I("p", 1))[0]);
        Near([-1, 1, -1, 1], Run("graph.mean_variance_normalization", [F([2, 2], 1, 3, 10, 20)], attrs: Is("axes", 1))[0], 1e-6);
    }

    [Fact]
    public void CumSum_exclusive_and_reverse()
    {
        var x = F([3], 1, 2, 3);
        var axis = L([], 0);
        Near([1, 3, 6], Run("graph.cum_sum", [x, axis])[0]);
        Near([0, 1, 3], Run("graph.cum_sum", [x, axis], attrs: I("exclusive", 1))[0]);
        Near([6, 5, 3], Run("graph.cum_sum", [x, axis], attrs: I("reverse", 1))[0]);
        Near([5, 3, 0], Run("graph.cum_sum", [x, axis], attrs: [I("reverse", 1), I("exclusive", 1)])[0]);
        Assert.Equal([1L, 2, 5, 7], Run("graph.cum_sum", [L([2, 2], 1, 2, 4, 5), L([], -2)])[0].I!);
    }

    [Fact]
    public void TopK_ties_resolve_to_lower_index()
    {
        var r = Run("graph.top_k", [F([5], 3, 7, 7, 1, 7), L([1], 2)], results: 2);
        Near([7, 7], r[0]);
        Assert.Equal([1L, 2], r[1].I!);
        var s = Run("graph.top_k", [F([2, 3], 3, 1, 2, 0, 0, 5), L([1], 2)], results: 2, attrs: I("largest", 0));
        Assert.Equal([2L, 2], s[0].Shape);
        Near([1, 2, 0, 0], s[0]);
        Assert.Equal([1L, 2, 0, 1], s[1].I!);
    }
}
