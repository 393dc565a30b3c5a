using static Tessera.Dialects.Graph.ShapeRules;

namespace Tessera.Dialects.Graph;

/// <summary>Shape rules of elementwise ops: unary ops keep input 0's shape, n-ary ops broadcast.</summary>
public static class ElementwiseShapes
{
    private static readonly string[] Unary =
    [
        "Abs", "Neg", "Sign", "Ceil", "Floor", "Round", "Reciprocal", "Sqrt", "Exp", "Log", "Erf", "Sin", "Cos", "Tan",
        "Asin", "Acos", "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh", "IsNaN", "IsInf", "Relu", "LeakyRelu",
        "ThresholdedRelu", "Elu", "Celu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish",
        "Gelu", "Swish", "Shrink", "Not", "BitwiseNot", "Cast", "CastLike", "Clip", "Identity", "Trilu",
    ];

    private static readonly string[] Broadcasting =
    [
        "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Greater", "GreaterOrEqual",
        "Less", "LessOrEqual", "And", "Or", "Xor", "Where", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "PRelu",
    ];

    public static IEnumerable<(string IrName, ShapeFn Fn)> Rules =>
        Unary.Select(n => (Ir(n), SameAs(0)))
            .Concat(Broadcasting.Select(n => (Ir(n), BroadcastAll)))
            .Append((Ir("Dropout"), SameAs(0)))
            .Append(("graph.dequantize_ggml", SameAs(0)));

    internal static string Ir(string onnxName) => GraphOpInfo.IrNameFor(onnxName, "");
}
