using static Tessera.Dialects.Graph.ElementwiseOpsHelpers;

namespace Tessera.Dialects.Graph;

// Activations with attributes. Attribute defaults are the f32 values an ONNX model would carry.
public static partial class ElementwiseOps
{
    private static IReadOnlyList<NDArray> LeakyRelu(KernelContext k)
    {
        double alpha = k.Float("alpha", 0.01f);
        return [UnaryF(k.In(0), v => v < 0 ? alpha * v : v)];
    }

    private static IReadOnlyList<NDArray> PRelu(KernelContext k)
    {
        var x = k.In(0);
        var slope = k.In(1);
        if (k.Opset is > 0 and < 7 && slope.Rank < x.Rank && slope.Length > 1 && x.Rank >= 2 && slope.Length == x.Shape[1])
        {
            // Before opset 7 a per-channel slope of shape [C] applied along axis 1.
            slope = slope.Reshape([slope.Length, .. Enumerable.Repeat(1L, x.Rank - 2)]);
        }

        var shape = NDArray.BroadcastShape(x.Shape, slope.Shape);
        if (!shape.AsSpan().SequenceEqual(x.Shape))
        {
            throw new EvalException($"slope of shape [{string.Join(", ", slope.Shape)}] does not broadcast to X of shape [{string.Join(", ", x.Shape)}]");
        }

        return [Binary(x, slope, (v, s) => v < 0 ? s * v : v, (v, s, _) => v < 0 ? unchecked(s * v) : v)];
    }

    private static IReadOnlyList<NDArray> ThresholdedRelu(KernelContext k)
    {
        double alpha = k.Float("alpha", 1.0f);
        return [UnaryF(k.In(0), v => v > alpha ? v : 0)];
    }

    private static IReadOnlyList<NDArray> Elu(KernelContext k)
    {
        double alpha = k.Float("alpha", 1.0f);
        return [UnaryF(k.In(0), v => v < 0 ? alpha * (Math.Exp(v) - 1) : v)];
    }

    private static IReadOnlyList<NDArray> Celu(KernelContext k)
    {
        double alpha = k.Float("alpha", 1.0f);
        return [UnaryF(k.In(0), v => Math.Max(0, v) + Math.Min(0, alpha * (Math.Exp(v / alpha) - 1)))];
    }

    private static IReadOnlyList<NDArray> Selu(KernelContext k)
    {
        double alpha = k.Float("alpha", 1.67326319217681884765625f);
        double gamma = k.Float("gamma", 1.05070102214813232421875f);
        return [UnaryF(k.In(0), v => v > 0 ? gamma * v : gamma * ((alpha * Math.Exp(v)) - alpha))];
    }

    private static IReadOnlyList<NDArray> HardSigmoid(KernelContext k)
    {
        double alpha = k.Float("alpha", 0.2f), beta = k.Float("beta", 0.5f);
        return [UnaryF(k.In(0), v => Math.Max(0, Math.Min(1, (alpha * v) + beta)))];
    }

    private static IReadOnlyList<NDArray> Gelu(KernelContext k)
    {
        string approximate = k.Str("approximate", "none");
        Func<double, double> f = approximate switch
        {
            "none" => v => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))),
            "tanh" => v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v)))),
            _ => throw new EvalException($"Gelu approximate must be 'none' or 'tanh', not '{approximate}'"),
        };
        return [UnaryF(k.In(0), f)];
    }

    private static IReadOnlyList<NDArray> Swish(KernelContext k)
    {
        double alpha = k.Float("alpha", 1.0f);
        return [UnaryF(k.In(0), v => v * Sigmoid(alpha * v))];
    }

    private static IReadOnlyList<NDArray> Shrink(KernelContext k)
    {
        double bias = k.Float("bias", 0.0f), lambd = k.Float("lambd", 0.5f);
        return [UnaryF(k.In(0), v => v < -lambd ? v + bias : v > lambd ? v - bias : 0)];
    }
}
