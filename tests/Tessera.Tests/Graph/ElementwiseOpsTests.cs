using Tessera.Dialects.Graph;

namespace Tessera.Tests.Graph;

public class ElementwiseOpsTests
{
    private static readonly Context Ctx = Tessera.Dialects.Contexts.CreateDefault();

    private static NDArray F32(long[] shape, params double[] v) => NDArray.Create(FloatType.F32, shape, v);
    private static NDArray F64(long[] shape, params double[] v) => NDArray.Create(FloatType.F64, shape, v);
    private static NDArray Ints(Type t, long[] shape, params long[] v) => NDArray.Create(t, shape, v);
    private static NDArray Bools(long[] shape, params bool[] v) => NDArray.Create(IntegerType.I1, shape, v.Select(b => b ? 1L : 0L).ToArray());

    private static Attribute I(long v) => new IntegerAttr(v, IntegerType.I64);
    private static Attribute Fl(double v) => new FloatAttr(v, FloatType.F32);
    private static Attribute S(string v) => new StringAttr(v);

    private static NDArray Run(string onnxName, NDArray?[] inputs, int opset = 0, params (string Name, Attribute Value)[] attrs)
    {
        var info = ElementwiseOps.Ops.Single(o => o.OnnxName == onnxName);
        var state = new OperationState(info.IrName, Location.Unknown);
        foreach (var (n, a) in attrs)
        {
            state.AddAttr(n, a);
        }

        var outs = info.Kernel(new KernelContext(Operation.Create(Ctx, state), inputs, opset));
        Assert.Single(outs);
        return outs[0];
    }

    private static void Near(double[] expected, NDArray actual, double tol = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] == actual.GetF(i))
            {
                continue;
            }

            if (double.IsNaN(expected[i]))
            {
                Assert.True(double.IsNaN(actual.GetF(i)), $"element {i}: expected NaN, got {actual.GetF(i)}");
            }
            else
            {
                Assert.True(Math.Abs(expected[i] - actual.GetF(i)) <= tol * Math.Max(1, Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual.GetF(i)}");
            }
        }
    }

    [Fact]
    public void OpTableHasOneRowPerOpWithUniqueIrNames()
    {
        var ops = ElementwiseOps.Ops.ToList();
        Assert.Equal(69, ops.Count);
        Assert.Equal(ops.Count, ops.Select(o => o.IrName).Distinct().Count());
        Assert.Contains(ops, o => o.IrName == "graph.greater_or_equal");
        Assert.Contains(ops, o => o.IrName == "graph.cast_like");
    }

    [Fact]
    public void AddBroadcastsAndWrapsIntegers()
    {
        var r = Run("Add", [F32([2, 3], 1, 2, 3, 4, 5, 6), F32([3], 10, 20, 30)]);
        Assert.Equal([2L, 3], r.Shape);
        Assert.Equal([11.0, 22, 33, 14, 25, 36], r.F!);

        var w = Run("Add", [Ints(IntegerType.I8, [2], 127, -128), Ints(IntegerType.I8, [1], 1)]);
        Assert.Equal([-128L, -127], w.I!);
    }

    [Fact]
    public void LegacyBroadcastAlignsBAtAxis()
    {
        // Opset 6: A [2, 3, 2], B [3] with axis=1 broadcasts B along dims 1 only.
        var a = F32([2, 3, 2], new double[12]);
        var r = Run("Add", [a, F32([3], 1, 2, 3)], 6, ("broadcast", I(1)), ("axis", I(1)));
        Assert.Equal([1.0, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], r.F!);
    }

    [Fact]
    public void DivTruncatesIntegersAndModFollowsFmod()
    {
        Assert.Equal([-2L, 2, -2], Run("Div", [Ints(IntegerType.I32, [3], -7, 7, 7), Ints(IntegerType.I32, [3], 3, 3, -3)]).I!);
        Assert.Equal([-3.5], Run("Div", [F32([1], -7), F32([1], 2)]).F!);

        // fmod=0: sign of the divisor (Python %); fmod=1: sign of the dividend (C fmod).
        var x = Ints(IntegerType.I64, [4], -4, 7, 5, -9);
        var y = Ints(IntegerType.I64, [4], 7, -3, 8, 2);
        Assert.Equal([3L, -2, 5, 1], Run("Mod", [x, y], 13).I!);
        Assert.Equal([-4L, 1, 5, -1], Run("Mod", [x, y], 13, ("fmod", I(1))).I!);
        Near([-1.5, 0.5, -0.5], Run("Mod", [F64([3], -4.5, 4.5, -0.5), F64([3], 3, -2, 3)], 13, ("fmod", I(1))));
        Near([1.5, -1.5, 2.5], Run("Mod", [F64([3], -4.5, 4.5, -0.5), F64([3], 3, -2, 3)], 13));
        Assert.Throws<EvalException>(() => Run("Div", [Ints(IntegerType.I32, [1], 1), Ints(IntegerType.I32, [1], 0)]));
    }

    [Fact]
    public void PowKeepsBaseTypeAndComputesIntegerPowersExactly()
    {
        Near([1, 32, 729], Run("Pow", [F32([3], 1, 2, 3), F32([3], 4, 5, 6)]));
        var big = Run("Pow", [Ints(IntegerType.I64, [2], 3, -2), Ints(IntegerType.I64, [2], 39, 3)]);
        Assert.Equal([4052555153018976267L, -8], big.I!);
        var mixed = Run("Pow", [Ints(IntegerType.I32, [2], 2, 3), F32([2], 0.5, 2)], 15);
        Assert.Equal(IntegerType.I32, mixed.ElementType);
        Assert.Equal([1L, 9], mixed.I!);
    }

    [Fact]
    public void VariadicOpsBroadcastAndPropagateNaN()
    {
        var a = F32([3], 3, 2, 1);
        var b = F32([3], 1, 4, 4);
        var c = F32([1], 2);
        Assert.Equal([3.0, 4, 4], Run("Max", [a, b, c]).F!);
        Assert.Equal([1.0, 2, 1], Run("Min", [a, b, c]).F!);
        Assert.Equal([6.0, 8, 7], Run("Sum", [a, b, c]).F!);
        Near([2, 8.0 / 3, 7.0 / 3], Run("Mean", [a, b, c]));
        Near([double.NaN, 2], Run("Max", [F32([2], double.NaN, 1), F32([1], 2)]));
        Assert.Equal([-1L, 5], Run("Max", [Ints(IntegerType.U64, [2], -1, 0), Ints(IntegerType.U64, [1], 5)]).I!);
    }

    [Fact]
    public void ComparisonsAndLogicGiveBooleans()
    {
        var a = F32([3], 1, double.NaN, 3);
        var b = F32([3], 1, double.NaN, 2);
        var eq = Run("Equal", [a, b]);
        Assert.Equal(IntegerType.I1, eq.ElementType);
        Assert.Equal([1L, 0, 0], eq.I!);
        Assert.Equal([0L, 0, 1], Run("Greater", [a, b]).I!);
        Assert.Equal([1L, 0, 0], Run("LessOrEqual", [a, b]).I!);
        Assert.Equal([1L, 0], Run("Less", [Ints(IntegerType.U64, [2], 1, -1), Ints(IntegerType.U64, [2], -1, 1)]).I!);

        var p = Bools([4], true, true, false, false);
        var q = Bools([4], true, false, true, false);
        Assert.Equal([1L, 0, 0, 0], Run("And", [p, q]).I!);
        Assert.Equal([1L, 1, 1, 0], Run("Or", [p, q]).I!);
        Assert.Equal([0L, 1, 1, 0], Run("Xor", [p, q]).I!);
        Assert.Equal([0L, 0, 1, 1], Run("Not", [p]).I!);
    }

    [Fact]
    public void WhereBroadcastsThreeWays()
    {
        var r = Run("Where", [Bools([2, 1], true, false), F32([2], 1, 2), F32([1], 9)]);
        Assert.Equal([2L, 2], r.Shape);
        Assert.Equal([1.0, 2, 9, 9], r.F!);
    }

    [Fact]
    public void BitwiseOpsAndBitShift()
    {
        var a = Ints(IntegerType.U8, [2], 0b1100, 0xF0);
        var b = Ints(IntegerType.U8, [2], 0b1010, 0x0F);
        Assert.Equal([0b1000L, 0], Run("BitwiseAnd", [a, b]).I!);
        Assert.Equal([0b1110L, 0xFF], Run("BitwiseOr", [a, b]).I!);
        Assert.Equal([0b0110L, 0xFF], Run("BitwiseXor", [a, b]).I!);
        Assert.Equal([0xF3L, 0x0F], Run("BitwiseNot", [a]).I!);
        Assert.Equal([-13L, 0x0F], Run("BitwiseNot", [Ints(IntegerType.I8, [2], 12, -16)]).I!);

        Assert.Equal([2L, 8, 0], Run("BitShift", [Ints(IntegerType.U8, [3], 1, 2, 1), Ints(IntegerType.U8, [3], 1, 2, 8)], 11, ("direction", S("LEFT"))).I!);
        Assert.Equal([0L, 2], Run("BitShift", [Ints(IntegerType.U32, [2], 1, 4), Ints(IntegerType.U32, [1], 1)], 11, ("direction", S("RIGHT"))).I!);
        // Signed right shifts are arithmetic; shifting by the width or more leaves only the sign.
        Assert.Equal([-4L, -1, 0], Run("BitShift", [Ints(IntegerType.I8, [3], -8, -8, 4), Ints(IntegerType.I8, [3], 1, 9, -1)], 26, ("direction", S("RIGHT"))).I!);
    }

    [Fact]
    public void UnaryMathFunctions()
    {
        Near([1.5, 0, 2], Run("Abs", [F32([3], -1.5, 0, 2)]));
        Assert.Equal([5L, -128], Run("Abs", [Ints(IntegerType.I8, [2], -5, -128)]).I!);
        Assert.Equal([-2L, 0, 3], Run("Neg", [Ints(IntegerType.I32, [3], 2, 0, -3)]).I!);
        Near([-1, 0, 1, double.NaN], Run("Sign", [F32([4], -3, 0, 0.5, double.NaN)]));
        Near([2, 2, -2, 0, -0.0, 4], Run("Round", [F32([6], 1.5, 2.5, -2.5, 0.4, -0.4, 3.5)]));
        Near([-1, 2], Run("Floor", [F32([2], -0.5, 2.7)]));
        Near([0, 3], Run("Ceil", [F32([2], -0.5, 2.7)]));
        Near([2, double.NaN], Run("Sqrt", [F32([2], 4, -1)]));
        Near([0.5, double.PositiveInfinity], Run("Reciprocal", [F32([2], 2, 0)]));
        Near([0, 1, double.NegativeInfinity], Run("Log", [F32([3], 1, Math.E, 0)]));
        Near([0.8427007929497149, -0.9953222650189527, 0, 1], Run("Erf", [F64([4], 1, -2, 0, 7)]), 1e-14);
        Near([Math.PI / 2, 0], Run("Acos", [F64([2], 0, 1)]));
        Near([0.5493061443340549], Run("Atanh", [F64([1], 0.5)]), 1e-14);
    }

    [Fact]
    public void InfAndNaNTests()
    {
        var x = F32([4], double.NegativeInfinity, 1, double.PositiveInfinity, double.NaN);
        Assert.Equal([1L, 0, 1, 0], Run("IsInf", [x]).I!);
        Assert.Equal([0L, 0, 1, 0], Run("IsInf", [x], 10, ("detect_negative", I(0))).I!);
        Assert.Equal([0L, 0, 0, 1], Run("IsNaN", [x]).I!);
    }

    [Fact]
    public void ReluFamily()
    {
        var x = F32([4], -2, -0.5, 0.5, 2);
        Near([0, 0, 0.5, 2], Run("Relu", [x]));
        Near([-0.02, -0.005, 0.5, 2], Run("LeakyRelu", [x]));
        Near([-0.2, -0.05, 0.5, 2], Run("LeakyRelu", [x], 16, ("alpha", Fl(0.1))));
        Near([-1, -0.5 * 3, 0.5, 2], Run("PRelu", [F32([2, 2], -2, -0.5, 0.5, 2), F32([2], 0.5, 3)]));
        Near([0, 0, 0, 2], Run("ThresholdedRelu", [x]));
        Near([Math.Exp(-2) - 1, Math.Exp(-0.5) - 1, 0.5, 2], Run("Elu", [x]));
        Near([2 * (Math.Exp(-1) - 1), 2 * (Math.Exp(-0.25) - 1), 0.5, 2], Run("Celu", [x], 12, ("alpha", Fl(2))));
        Near([3 * 2 * (Math.Exp(-2) - 1), 3 * 2 * (Math.Exp(-0.5) - 1), 1.5, 6], Run("Selu", [x], 6, ("alpha", Fl(2)), ("gamma", Fl(3))));
        Near([-1.5, 0, 0, 1.5], Run("Shrink", [x], 9, ("lambd", Fl(0.5)), ("bias", Fl(0.5))));
        Assert.Equal([0L, 5], Run("Relu", [Ints(IntegerType.I32, [2], -5, 5)]).I!);
    }

    [Fact]
    public void SmoothActivations()
    {
        var x = F64([3], -1, 0, 1);
        double s(double v) => 1 / (1 + Math.Exp(-v));
        Near([s(-1), 0.5, s(1)], Run("Sigmoid", [x]), 1e-14);
        Near([0.3, 0.5, 0.7], Run("HardSigmoid", [x]), 1e-7);
        Near([-1 / 3.0, 0, 2 / 3.0], Run("HardSwish", [x]), 1e-14);
        Near([Math.Log(1 + Math.Exp(-1)), Math.Log(2), Math.Log(1 + Math.E)], Run("Softplus", [x]), 1e-14);
        Near([1000, 4.24835425529159e-18], Run("Softplus", [F64([2], 1000, -40)]), 1e-12);
        Near([-0.5, 0, 0.5], Run("Softsign", [x]), 1e-14);
        Near([-1 * Math.Tanh(Math.Log(1 + Math.Exp(-1))), 0, Math.Tanh(Math.Log(1 + Math.E))], Run("Mish", [x]), 1e-14);
        Near([-s(-2), 0, s(2)], Run("Swish", [x], 24, ("alpha", Fl(2))), 1e-14);
        // Gelu: x·Φ(x), Φ(1) = 0.8413447460685429; tanh form from the spec.
        Near([-(1 - 0.8413447460685429), 0, 0.8413447460685429], Run("Gelu", [x], 20), 1e-14);
        double t(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v))));
        Near([t(-1), 0, t(1)], Run("Gelu", [x], 20, ("approximate", S("tanh"))), 1e-14);
    }

    [Fact]
    public void CastConvertsBetweenFloatsIntsAndBools()
    {
        var x = F32([5], -2.7, 0.5, 300.9, double.NaN, 0);
        var i = Run("Cast", [x], 13, ("to", I(OnnxTypes.Int32)));
        Assert.Equal(IntegerType.I32, i.ElementType);
        Assert.Equal([-2L, 0, 300], i.I!.Take(3));
        Assert.Equal([1L, 1, 1, 1, 0], Run("Cast", [x], 13, ("to", I(OnnxTypes.Bool))).I!);
        Assert.Equal([0.0, 1, 255], Run("Cast", [Ints(IntegerType.U8, [3], 0, 1, 255)], 13, ("to", I(OnnxTypes.Float))).F!);
        Assert.Equal([-1L], Run("Cast", [Ints(IntegerType.U8, [1], 255)], 13, ("to", I(OnnxTypes.Int8))).I!);
        Assert.Equal([1.0009765625], Run("Cast", [F64([1], 1.0009)], 13, ("to", I(OnnxTypes.Float16))).F!);
        Assert.Equal([2.0], Run("Cast", [F32([1], 2)], 1, ("to", S("DOUBLE"))).F!);

        var like = Run("CastLike", [F32([2], 1.9, -1.9), Ints(IntegerType.I64, [0])], 15);
        Assert.Equal(IntegerType.I64, like.ElementType);
        Assert.Equal([1L, -1], like.I!);
    }

    [Fact]
    public void ClipTakesAttributesBeforeOpset11AndInputsAfter()
    {
        var x = F32([4], -3, -1, 1, 3);
        Near([-2, -1, 1, 2], Run("Clip", [x], 6, ("min", Fl(-2)), ("max", Fl(2))));
        Near([-3, -1, 1, 2], Run("Clip", [x], 6, ("max", Fl(2))));
        Near([-2, -1, 1, 2], Run("Clip", [x, F32([], -2), F32([], 2)], 13));
        Near([0, 0, 1, 3], Run("Clip", [x, F32([], 0), null], 13));
        Near([1, 1, 1, 1], Run("Clip", [x, F32([], 2), F32([], 1)], 13));
        Assert.Equal([-1L, 5], Run("Clip", [Ints(IntegerType.I8, [2], -100, 100), Ints(IntegerType.I8, [], -1), Ints(IntegerType.I8, [], 5)], 13).I!);
    }
}
