using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Tests.Graph;

/// <summary>Raised transformer ops against values computed by hand.</summary>
public class TransformerOpsTests
{
    private static readonly Context Ctx = Contexts.CreateDefault();

    private static NDArray F(long[] shape, params double[] v) => NDArray.Create(FloatType.F64, shape, v);

    private static NDArray Run(string irName, NDArray?[] inputs, params (string Name, Attribute Value)[] attrs)
    {
        var info = GraphDialect.Info(irName) ?? throw new InvalidOperationException($"no row for {irName}");
        var state = new OperationState("graph.x", Location.Unknown);
        state.AddTypes(new TensorType([new Dim(1)], FloatType.F64));
        foreach (var (n, v) in attrs)
        {
            state.AddAttr(n, v);
        }

        return info.Kernel(new KernelContext(Operation.Create(Ctx, state), inputs, 0))[0];
    }

    private static void Near(double[] expected, NDArray actual, double tol = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual.F![i]) <= tol, $"element {i}: expected {expected[i]}, got {actual.F![i]}");
        }
    }

    [Fact]
    public void RmsNormScalesByRootMeanSquare()
    {
        // x = [3, 4]: mean(x^2) = 12.5; eps 0 -> x / sqrt(12.5) * w
        var y = Run("graph.rms_norm", [F([1, 2], 3, 4), F([2], 2, 0.5)], ("epsilon", new FloatAttr(0, FloatType.F64)));
        double r = Math.Sqrt(12.5);
        Near([3 / r * 2, 4 / r * 0.5], y);
    }

    [Fact]
    public void LayerNormWithAndWithoutBias()
    {
        // x = [1, 3]: mean 2, var 1; eps 0 -> [-1, 1] * w + b
        var eps = ("epsilon", (Attribute)new FloatAttr(0, FloatType.F64));
        Near([-2, 3 + 1], Run("graph.layer_norm", [F([2], 1, 3), F([2], 2, 3), F([2], 0, 1)], eps));
        Near([-2, 3], Run("graph.layer_norm", [F([2], 1, 3), F([2], 2, 3), null], eps));
    }

    [Fact]
    public void SiluIsXTimesSigmoid()
    {
        Near([0, 1 / (1 + Math.Exp(-1)), -2 / (1 + Math.Exp(2))], Run("graph.silu", [F([3], 0, 1, -2)]));
    }

    [Fact]
    public void RopeRotatesHalvesAndPairs()
    {
        // x = [1, 2, 3, 4]; cos = 0.5, sin = 2 (broadcast)
        var x = F([1, 4], 1, 2, 3, 4);
        var cos = F([1], 0.5);
        var sin = F([1], 2);
        // rotate_half = [-3, -4, 1, 2]
        Near([0.5 - 6, 1 - 8, 1.5 + 2, 2 + 4], Run("graph.rope", [x, cos, sin], ("interleaved", IntegerAttr.I64(0))));
        // pairwise = [-2, 1, -4, 3]
        Near([0.5 - 4, 1 + 2, 1.5 - 8, 2 + 6], Run("graph.rope", [x, cos, sin], ("interleaved", IntegerAttr.I64(1))));
    }

    [Fact]
    public void SdpaWithGroupedHeadsMaskAndCausal()
    {
        // B=1, Hq=2, Hkv=1, S=1, T=2, D=1. q = [[1], [2]], k = [0, 1], v = [10, 20], scale 1.
        var q = F([1, 2, 1, 1], 1, 2);
        var k = F([1, 1, 2, 1], 0, 1);
        var v = F([1, 1, 2, 1], 10, 20);
        var scale = ("scale", (Attribute)new FloatAttr(1, FloatType.F64));
        // head h: scores [0, q_h]; p1 = sigmoid(q_h); out = 10 + 10 * p1
        double P(double s) => 1 / (1 + Math.Exp(-s));
        Near([10 + (10 * P(1)), 10 + (10 * P(2))], Run("graph.sdpa", [q, k, v, null], scale), 1e-9);

        // additive mask [0, -1] shifts the second score
        Near([10 + (10 * P(0)), 10 + (10 * P(1))], Run("graph.sdpa", [q, k, v, F([2], 0, -1)], scale), 1e-9);

        // boolean mask keeping only key 0 -> out = 10
        var keep0 = NDArray.Create(IntegerType.I1, [2], [1L, 0L]);
        Near([10, 10], Run("graph.sdpa", [q, k, v, keep0], scale), 1e-9);

        // default scale 1/sqrt(D) = 1; causal with S=1 keeps key 0 only
        Near([10, 10], Run("graph.sdpa", [q, k, v, null], ("is_causal", IntegerAttr.I64(1))), 1e-9);
    }
}
