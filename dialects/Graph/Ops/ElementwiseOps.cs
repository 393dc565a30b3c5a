using static Tessera.Dialects.Graph.ElementwiseOpsHelpers;

namespace Tessera.Dialects.Graph;

/// <summary>Elementwise ONNX ops: arithmetic, comparisons, logic, bitwise, math functions, activations, casts.</summary>
public static partial class ElementwiseOps
{
    public static IEnumerable<GraphOpInfo> Ops =>
    [
        // Unary math.
        GraphOpInfo.Onnx("Abs", U(Math.Abs, AbsI)) with { Summary = "absolute value" },
        GraphOpInfo.Onnx("Neg", U(v => -v, _ => v => unchecked(-v))) with { Summary = "negation" },
        GraphOpInfo.Onnx("Sign", Sign, 9) with { Summary = "sign: -1, 0 or 1" },
        GraphOpInfo.Onnx("Ceil", U(Math.Ceiling)) with { Summary = "round up" },
        GraphOpInfo.Onnx("Floor", U(Math.Floor)) with { Summary = "round down" },
        GraphOpInfo.Onnx("Round", U(v => Math.Round(v, MidpointRounding.ToEven)), 11) with { Summary = "round half to even" },
        GraphOpInfo.Onnx("Reciprocal", U(v => 1 / v)) with { Summary = "1 / x" },
        GraphOpInfo.Onnx("Sqrt", U(Math.Sqrt)) with { Summary = "square root" },
        GraphOpInfo.Onnx("Exp", U(Math.Exp)) with { Summary = "e to the x" },
        GraphOpInfo.Onnx("Log", U(Math.Log)) with { Summary = "natural logarithm" },
        GraphOpInfo.Onnx("Erf", U(Erf), 9) with { Summary = "error function" },
        GraphOpInfo.Onnx("Sin", U(Math.Sin), 7) with { Summary = "sine" },
        GraphOpInfo.Onnx("Cos", U(Math.Cos), 7) with { Summary = "cosine" },
        GraphOpInfo.Onnx("Tan", U(Math.Tan), 7) with { Summary = "tangent" },
        GraphOpInfo.Onnx("Asin", U(Math.Asin), 7) with { Summary = "arcsine" },
        GraphOpInfo.Onnx("Acos", U(Math.Acos), 7) with { Summary = "arccosine" },
        GraphOpInfo.Onnx("Atan", U(Math.Atan), 7) with { Summary = "arctangent" },
        GraphOpInfo.Onnx("Sinh", U(Math.Sinh), 9) with { Summary = "hyperbolic sine" },
        GraphOpInfo.Onnx("Cosh", U(Math.Cosh), 9) with { Summary = "hyperbolic cosine" },
        GraphOpInfo.Onnx("Tanh", U(Math.Tanh)) with { Summary = "hyperbolic tangent" },
        GraphOpInfo.Onnx("Asinh", U(Math.Asinh), 9) with { Summary = "inverse hyperbolic sine" },
        GraphOpInfo.Onnx("Acosh", U(Math.Acosh), 9) with { Summary = "inverse hyperbolic cosine" },
        GraphOpInfo.Onnx("Atanh", U(Math.Atanh), 9) with { Summary = "inverse hyperbolic tangent" },
        GraphOpInfo.Onnx("IsNaN", k => [UnaryBool(k.In(0), double.IsNaN)], 9) with { ResultType = Rules.Bool, Summary = "x is NaN" },
        GraphOpInfo.Onnx("IsInf", IsInf, 10) with { ResultType = Rules.Bool, Summary = "x is an infinity (of the selected signs)" },

        // Activations.
        GraphOpInfo.Onnx("Relu", U(v => Math.Max(v, 0), ReluI)) with { Summary = "max(x, 0)" },
        GraphOpInfo.Onnx("LeakyRelu", LeakyRelu) with { Summary = "x, or alpha·x below 0" },
        GraphOpInfo.Onnx("PRelu", PRelu) with { Summary = "x, or slope·x below 0 (slope broadcasts to x)" },
        GraphOpInfo.Onnx("ThresholdedRelu", ThresholdedRelu, 10) with { Summary = "x above alpha, else 0" },
        GraphOpInfo.Onnx("Elu", Elu) with { Summary = "x, or alpha·(exp(x) - 1) below 0" },
        GraphOpInfo.Onnx("Celu", Celu, 12) with { Summary = "max(0, x) + min(0, alpha·(exp(x/alpha) - 1))" },
        GraphOpInfo.Onnx("Selu", Selu) with { Summary = "gamma·x, or gamma·alpha·(exp(x) - 1) below 0" },
        GraphOpInfo.Onnx("Sigmoid", U(Sigmoid)) with { Summary = "1 / (1 + exp(-x))" },
        GraphOpInfo.Onnx("HardSigmoid", HardSigmoid) with { Summary = "max(0, min(1, alpha·x + beta))" },
        GraphOpInfo.Onnx("HardSwish", U(v => v * Math.Max(0, Math.Min(1, (v / 6) + 0.5))), 14) with { Summary = "x · hard_sigmoid(x) with alpha 1/6, beta 0.5" },
        GraphOpInfo.Onnx("Softplus", U(Softplus)) with { Summary = "log(exp(x) + 1)" },
        GraphOpInfo.Onnx("Softsign", U(v => v / (1 + Math.Abs(v)))) with { Summary = "x / (1 + |x|)" },
        GraphOpInfo.Onnx("Mish", U(v => v * Math.Tanh(Softplus(v))), 18) with { Summary = "x · tanh(softplus(x))" },
        GraphOpInfo.Onnx("Gelu", Gelu, 20) with { Summary = "x · Φ(x), exact or tanh approximation" },
        GraphOpInfo.Onnx("Swish", Swish, 24) with { Summary = "x · sigmoid(alpha·x)" },
        GraphOpInfo.Onnx("Shrink", Shrink, 9) with { Summary = "x ± bias outside [-lambd, lambd], else 0" },

        // Binary arithmetic.
        GraphOpInfo.Onnx("Add", Add) with { Summary = "a + b (broadcasting)" },
        GraphOpInfo.Onnx("Sub", Sub) with { Summary = "a - b (broadcasting)" },
        GraphOpInfo.Onnx("Mul", Mul) with { Summary = "a · b (broadcasting)" },
        GraphOpInfo.Onnx("Div", Div) with { Summary = "a / b (broadcasting; integers truncate)" },
        GraphOpInfo.Onnx("Mod", Mod, 10) with { Summary = "remainder with the divisor's sign, or C fmod with fmod=1" },
        GraphOpInfo.Onnx("Pow", Pow) with { Summary = "a to the power b (broadcasting)" },

        // Variadic.
        GraphOpInfo.Onnx("Max", Max) with { Summary = "elementwise maximum of its inputs (broadcasting)" },
        GraphOpInfo.Onnx("Min", Min) with { Summary = "elementwise minimum of its inputs (broadcasting)" },
        GraphOpInfo.Onnx("Sum", Sum) with { Summary = "elementwise sum of its inputs (broadcasting)" },
        GraphOpInfo.Onnx("Mean", Mean) with { Summary = "elementwise mean of its inputs (broadcasting)" },

        // Comparisons.
        GraphOpInfo.Onnx("Equal", Comparison((a, b) => a == b, c => c == 0)) with { ResultType = Rules.Bool, Summary = "a == b" },
        GraphOpInfo.Onnx("Greater", Comparison((a, b) => a > b, c => c > 0)) with { ResultType = Rules.Bool, Summary = "a > b" },
        GraphOpInfo.Onnx("GreaterOrEqual", Comparison((a, b) => a >= b, c => c >= 0), 12) with { ResultType = Rules.Bool, Summary = "a >= b" },
        GraphOpInfo.Onnx("Less", Comparison((a, b) => a < b, c => c < 0)) with { ResultType = Rules.Bool, Summary = "a < b" },
        GraphOpInfo.Onnx("LessOrEqual", Comparison((a, b) => a <= b, c => c <= 0), 12) with { ResultType = Rules.Bool, Summary = "a <= b" },

        // Logic.
        GraphOpInfo.Onnx("And", Logic((a, b) => a & b)) with { ResultType = Rules.Bool, Summary = "logical and" },
        GraphOpInfo.Onnx("Or", Logic((a, b) => a | b)) with { ResultType = Rules.Bool, Summary = "logical or" },
        GraphOpInfo.Onnx("Xor", Logic((a, b) => a ^ b)) with { ResultType = Rules.Bool, Summary = "logical exclusive or" },
        GraphOpInfo.Onnx("Not", k => [UnaryI(k.In(0), v => v == 0 ? 1 : 0, IntegerType.I1)]) with { ResultType = Rules.Bool, Summary = "logical not" },
        GraphOpInfo.Onnx("Where", Where, 9) with { ResultType = Rules.SameAsInput(1), Summary = "x where condition, else y (broadcasting)" },

        // Bitwise.
        GraphOpInfo.Onnx("BitShift", BitShift, 11) with { Summary = "shift left or right by b bits" },
        GraphOpInfo.Onnx("BitwiseAnd", Bitwise((a, b) => a & b), 18) with { Summary = "bitwise and" },
        GraphOpInfo.Onnx("BitwiseOr", Bitwise((a, b) => a | b), 18) with { Summary = "bitwise or" },
        GraphOpInfo.Onnx("BitwiseXor", Bitwise((a, b) => a ^ b), 18) with { Summary = "bitwise exclusive or" },
        GraphOpInfo.Onnx("BitwiseNot", k => [UnaryI(k.In(0), v => ~v)], 18) with { Summary = "bitwise not" },

        // Casts and clipping.
        GraphOpInfo.Onnx("Cast", Cast) with { ResultType = CastResultType, Summary = "convert to the element type 'to'" },
        GraphOpInfo.Onnx("CastLike", CastLike, 15) with { ResultType = Rules.SameAsInput(1), Summary = "convert to the element type of target_type" },
        GraphOpInfo.Onnx("Clip", Clip) with { Summary = "clamp to [min, max]" },
    ];

    /// <summary>A unary kernel: <paramref name="f"/> on floats, <paramref name="fi"/> (if given) on integers.</summary>
    private static Kernel U(Func<double, double> f, Func<NDArray, Func<long, long>>? fi = null) =>
        k =>
        {
            var x = k.In(0);
            return [Unary(x, f, fi?.Invoke(x))];
        };

    private static Func<long, long> AbsI(NDArray x) => IsUnsigned(x.ElementType) ? v => v : v => unchecked(v < 0 ? -v : v);

    private static Func<long, long> ReluI(NDArray x) => IsUnsigned(x.ElementType) ? v => v : v => Math.Max(v, 0);

    private static IReadOnlyList<NDArray> Sign(KernelContext k)
    {
        var x = k.In(0);
        return [Unary(x, v => v > 0 ? 1 : v < 0 ? -1 : v, IsUnsigned(x.ElementType) ? v => v != 0 ? 1 : 0 : v => Math.Sign(v))];
    }

    private static IReadOnlyList<NDArray> IsInf(KernelContext k)
    {
        bool neg = k.Int("detect_negative", 1) != 0, pos = k.Int("detect_positive", 1) != 0;
        return [UnaryBool(k.In(0), v => (pos && double.IsPositiveInfinity(v)) || (neg && double.IsNegativeInfinity(v)))];
    }
}
