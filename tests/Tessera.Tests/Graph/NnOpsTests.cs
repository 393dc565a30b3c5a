using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Tests.Graph;

/// <summary>Reference kernels of the NN op set, checked against hand-computed values and ONNX spec examples.</summary>
public class NnOpsTests
{
    private static readonly Context Ctx = Contexts.CreateDefault();

    private static NDArray F32(long[] shape, params double[] v) => NDArray.Create(FloatType.F32, shape, v);
    private static NDArray Ints(Type t, long[] shape, params long[] v) => NDArray.Create(t, shape, v);

    private static Attribute A(long v) => IntegerAttr.I64(v);
    private static Attribute A(double v) => new FloatAttr(v, FloatType.F32);
    private static Attribute A(string v) => new StringAttr(v);
    private static Attribute Ls(params long[] v) => ArrayAttr.OfInts(v);

    /// <summary>Runs the kernel of ONNX op <paramref name="name"/> on an op carrying <paramref name="attrs"/>.</summary>
    private static IReadOnlyList<NDArray> Run(string name, NDArray?[] inputs, (string, Attribute)[]? attrs = null, string domain = "", int opset = 21, int results = 1, Type[]? resultTypes = null)
    {
        string ir = GraphOpInfo.IrNameFor(name, domain);
        var info = GraphDialect.Info(ir) ?? throw new InvalidOperationException($"no op {ir}");
        var st = new OperationState(ir, Location.Unknown);
        foreach (var (k, v) in attrs ?? [])
        {
            st.AddAttr(k, v);
        }

        for (int i = 0; i < results; i++)
        {
            st.AddTypes(new TensorType([], resultTypes?[i] ?? FloatType.F32));
        }

        return info.Kernel(new KernelContext(Operation.Create(Ctx, st), inputs, opset));
    }

    private static void Near(double[] expected, NDArray actual, double tol = 1e-5)
    {
        var got = actual.AsDoubles();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - got[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {got[i]}");
        }
    }

    private static NDArray Iota(long[] shape) => F32(shape, Enumerable.Range(0, (int)NDArray.Count(shape)).Select(i => (double)i).ToArray());

    [Fact]
    public void Conv2dSpecExampleWithAndWithoutPadding()
    {
        var x = Iota([1, 1, 5, 5]);
        var w = F32([1, 1, 3, 3], Enumerable.Repeat(1.0, 9).ToArray());
        var padded = Run("Conv", [x, w], [("kernel_shape", Ls(3, 3)), ("pads", Ls(1, 1, 1, 1))])[0];
        Assert.Equal([1L, 1, 5, 5], padded.Shape);
        Near([12, 21, 27, 33, 24], F32([5], padded.F!.Take(5).ToArray()));
        var valid = Run("Conv", [x, w], [("kernel_shape", Ls(3, 3))])[0];
        Near([54, 63, 72, 99, 108, 117, 144, 153, 162], valid);
        var strided = Run("Conv", [x, w], [("pads", Ls(1, 0, 1, 0)), ("strides", Ls(2, 2))])[0];
        Assert.Equal([1L, 1, 3, 2], strided.Shape);
        Near([21, 33, 99, 117], F32([4], strided.F!.Take(4).ToArray()));
    }

    [Fact]
    public void ConvGroupedStridedWithBias()
    {
        var x = F32([1, 2, 4], 1, 2, 3, 4, 5, 6, 7, 8);
        var w = F32([2, 1, 2], 1, 1, 1, -1);
        var y = Run("Conv", [x, w, F32([2], 10, 20)], [("group", A(2L)), ("strides", Ls(2L))])[0];
        Assert.Equal([1L, 2, 2], y.Shape);
        Near([13, 17, 19, 19], y);
    }

    [Fact]
    public void ConvSameUpperPadsAtTheEnd()
    {
        // in 4, kernel 2, stride 1: total pad 1, SAME_UPPER puts it at the end, SAME_LOWER at the start.
        var x = F32([1, 1, 4], 1, 2, 3, 4);
        var w = F32([1, 1, 2], 1, 10);
        Near([21, 32, 43, 4], Run("Conv", [x, w], [("auto_pad", A("SAME_UPPER"))])[0]);
        Near([10, 21, 32, 43], Run("Conv", [x, w], [("auto_pad", A("SAME_LOWER"))])[0]);
    }

    [Fact]
    public void ConvTransposeSpecExample1d()
    {
        var x = F32([1, 1, 3], 0, 1, 2);
        var w = F32([1, 2, 3], 1, 1, 1, 1, 1, 1);
        var y = Run("ConvTranspose", [x, w])[0];
        Assert.Equal([1L, 2, 5], y.Shape);
        Near([0, 1, 3, 3, 2, 0, 1, 3, 3, 2], y);
    }

    [Fact]
    public void ConvTransposeStridesAndOutputShape()
    {
        // stride 2, kernel 1: zeros are inserted; output_shape 6 makes total padding -1 → one extra zero at the end.
        var x = F32([1, 1, 3], 1, 2, 3);
        var w = F32([1, 1, 1], 2);
        Near([2, 0, 4, 0, 6], Run("ConvTranspose", [x, w], [("strides", Ls(2L))])[0]);
        var y = Run("ConvTranspose", [x, w], [("strides", Ls(2L)), ("output_shape", Ls(6L))])[0];
        Assert.Equal([1L, 1, 6], y.Shape);
        Near([2, 0, 4, 0, 6, 0], y);
    }

    [Fact]
    public void MaxPoolWithIndicesRowAndColumnMajor()
    {
        var x = Iota([1, 1, 4, 4]);
        var attrs = new (string, Attribute)[] { ("kernel_shape", Ls(2, 2)), ("strides", Ls(2, 2)) };
        var r = Run("MaxPool", [x], attrs, results: 2, resultTypes: [FloatType.F32, IntegerType.I64]);
        Near([5, 7, 13, 15], r[0]);
        Assert.Equal([5L, 7, 13, 15], r[1].AsLongs());
        var c = Run("MaxPool", [x], [.. attrs, ("storage_order", A(1L))], results: 2, resultTypes: [FloatType.F32, IntegerType.I64]);
        Assert.Equal([5L, 13, 7, 15], c[1].AsLongs());
        Assert.Single(Run("MaxPool", [x], attrs, results: 1));
    }

    [Fact]
    public void MaxPoolCeilModeAndDilations()
    {
        var x = Iota([1, 1, 5]);
        var ceil = Run("MaxPool", [x], [("kernel_shape", Ls(2L)), ("strides", Ls(2L)), ("ceil_mode", A(1L))])[0];
        Near([1, 3, 4], ceil);
        Near([2, 3, 4], Run("MaxPool", [x], [("kernel_shape", Ls(2L)), ("dilations", Ls(2L))])[0]);
    }

    [Fact]
    public void AveragePoolCountIncludePad()
    {
        var x = F32([1, 1, 2, 2], 1, 2, 3, 4);
        var attrs = new (string, Attribute)[] { ("kernel_shape", Ls(2, 2)), ("pads", Ls(1, 1, 1, 1)) };
        var excl = Run("AveragePool", [x], attrs)[0];
        Assert.Equal([1L, 1, 3, 3], excl.Shape);
        Near([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], excl);
        var incl = Run("AveragePool", [x], [.. attrs, ("count_include_pad", A(1L))])[0];
        Near([0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1], incl);
    }

    [Fact]
    public void LpPoolAndGlobalPools()
    {
        var x = F32([1, 2, 2], 3, 4, -6, 8);
        Near([5, 10], Run("LpPool", [x], [("kernel_shape", Ls(2L))])[0]);
        Near([7, 14], Run("LpPool", [x], [("kernel_shape", Ls(2L)), ("p", A(1L))])[0]);
        var avg = Run("GlobalAveragePool", [x])[0];
        Assert.Equal([1L, 2, 1], avg.Shape);
        Near([3.5, 1], avg);
        Near([4, 8], Run("GlobalMaxPool", [x])[0]);
        Near([5, 10], Run("GlobalLpPool", [x])[0]);
    }

    [Fact]
    public void ResizeNearestAndLinearSpecExamples()
    {
        var x = F32([1, 1, 2, 2], 1, 2, 3, 4);
        var up = Run("Resize", [x, null, F32([4], 1, 1, 2, 3)], [("mode", A("nearest"))])[0];
        Assert.Equal([1L, 1, 4, 6], up.Shape);
        Near([1, 1, 1, 2, 2, 2], F32([6], up.F!.Take(6).ToArray()));
        var lin = Run("Resize", [x, null, F32([4], 1, 1, 2, 2)], [("mode", A("linear"))])[0];
        Near([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5], F32([8], lin.F!.Take(8).ToArray()));
        var row = F32([1, 1, 2, 4], 1, 2, 3, 4, 5, 6, 7, 8);
        var ac = Run("Resize", [row, null, F32([4], 1, 1, 0.6, 0.6)], [("mode", A("linear")), ("coordinate_transformation_mode", A("align_corners"))])[0];
        Assert.Equal([1L, 1, 1, 2], ac.Shape);
        Near([1, 3.142857], ac);
    }

    [Fact]
    public void ResizeSizesWithAxesAndCubicIdentity()
    {
        var x = Iota([1, 1, 2, 4]);
        var y = Run("Resize", [x, null, null, Ints(IntegerType.I64, [1], 2)], [("axes", Ls(-1L)), ("coordinate_transformation_mode", A("asymmetric"))])[0];
        Assert.Equal([1L, 1, 2, 2], y.Shape);
        Near([0, 2, 4, 6], y);

        // Cubic at integer source coordinates reproduces the input.
        var same = Run("Resize", [x, null, F32([4], 1, 1, 1, 1)], [("mode", A("cubic")), ("coordinate_transformation_mode", A("tf_crop_and_resize"))])[0];
        Near(x.F!, same);
    }

    [Fact]
    public void UpsampleNearest()
    {
        var x = F32([1, 1, 2, 2], 1, 2, 3, 4);
        var y = Run("Upsample", [x, F32([4], 1, 1, 2, 3)], opset: 9)[0];
        Assert.Equal([1L, 1, 4, 6], y.Shape);
        Near([3, 3, 3, 4, 4, 4], F32([6], y.F!.Skip(12).Take(6).ToArray()));
    }

    [Fact]
    public void QuantizeLinearRoundsHalfToEvenAndSaturates()
    {
        var x = F32([6], 0, 2, 3, 1000, -254, -1000);
        var y = Run("QuantizeLinear", [x, F32([], 2), Ints(IntegerType.U8, [], 128)], resultTypes: [IntegerType.U8])[0];
        Assert.Equal(IntegerType.U8, y.ElementType);
        Assert.Equal([128L, 129, 130, 255, 1, 0], y.AsLongs());
        var i4 = Run("QuantizeLinear", [F32([4], 1, 2.5, 3.5, -100), F32([], 1), Ints(IntegerType.I4, [], 0)])[0];
        Assert.Equal([1L, 2, 4, -8], i4.AsLongs());
    }

    [Fact]
    public void QuantizePerAxisAndBlocked()
    {
        var x = F32([2, 4], 1, 2, 3, 4, 5, 6, 7, 8);
        var axis = Run("QuantizeLinear", [x, F32([2], 1, 2), Ints(IntegerType.I8, [2], 0, 1)], [("axis", A(0L))])[0];
        Assert.Equal([1L, 2, 3, 4, 3, 4, 5, 5], axis.AsLongs());
        var blocked = Run("QuantizeLinear", [x, F32([2, 2], 1, 2, 4, 8), Ints(IntegerType.I8, [2, 2], 0, 0, 0, 0)], [("axis", A(1L)), ("block_size", A(2L))])[0];
        Assert.Equal([1L, 2, 2, 2, 1, 2, 1, 1], blocked.AsLongs());
        var deq = Run("DequantizeLinear", [Ints(IntegerType.I8, [2, 2], 1, 2, 3, 4), F32([2], 0.5, 2), Ints(IntegerType.I8, [2], 1, 0)], [("axis", A(1L))])[0];
        Assert.Equal(FloatType.F32, deq.ElementType);
        Near([0, 4, 1, 8], deq);
    }

    [Fact]
    public void DynamicQuantizeLinearSpecExample()
    {
        var r = Run("DynamicQuantizeLinear", [F32([6], 0, 2, -3, -2.5, 1.34, 0.5)], results: 3, opset: 11);
        Assert.Equal([153L, 255, 0, 26, 221, 179], r[0].AsLongs());
        Near([5.0 / 255], r[1]);
        Assert.Equal([153L], r[2].AsLongs());
    }

    [Fact]
    public void QLinearMatMulSpecExample()
    {
        var a = Ints(IntegerType.U8, [2, 4], 208, 236, 0, 238, 3, 214, 255, 29);
        var b = Ints(IntegerType.U8, [4, 3], 152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247);
        var y = Run("QLinearMatMul", [a, F32([], 0.0066), Ints(IntegerType.U8, [], 113), b, F32([], 0.00705), Ints(IntegerType.U8, [], 114), F32([], 0.0107), Ints(IntegerType.U8, [], 118)], resultTypes: [IntegerType.U8])[0];
        Assert.Equal([168L, 115, 255, 1, 66, 151], y.AsLongs());
    }

    [Fact]
    public void ConvIntegerAndQLinearConv()
    {
        var x = Ints(IntegerType.U8, [1, 1, 3, 3], 2, 3, 4, 5, 6, 7, 8, 9, 10);
        var w = Ints(IntegerType.U8, [1, 1, 2, 2], 1, 1, 1, 1);
        var y = Run("ConvInteger", [x, w, Ints(IntegerType.U8, [], 1)], resultTypes: [IntegerType.I32])[0];
        Assert.Equal(IntegerType.I32, y.ElementType);
        Assert.Equal([12L, 16, 24, 28], y.AsLongs());

        var qx = Ints(IntegerType.U8, [1, 1, 2, 2], 10, 20, 30, 40);
        var qw = Ints(IntegerType.I8, [1, 1, 1, 1], 2);
        var q = Run("QLinearConv", [qx, F32([], 0.5), Ints(IntegerType.U8, [], 10), qw, F32([], 0.25), Ints(IntegerType.I8, [], 0), F32([], 0.5), Ints(IntegerType.U8, [], 1)], resultTypes: [IntegerType.U8])[0];
        Assert.Equal([1L, 6, 11, 16], q.AsLongs());
    }

    [Fact]
    public void GeluFamily()
    {
        var x = F32([3], 1, -4.2, 0);
        Near([0.8413447460685429, -5.605214586679175e-05, 0], Run("Gelu", [x], domain: "com.microsoft")[0], 1e-6);
        Near([0.8411919906082768], Run("FastGelu", [F32([1], 0.5), F32([1], 0.5)], domain: "com.microsoft")[0], 1e-6);
        Near([0.8413447460685429, 0.8413447460685429], Run("BiasGelu", [F32([2], 0, 2), F32([2], 1, -1)], domain: "com.microsoft")[0], 1e-6);
    }

    [Fact]
    public void SkipLayerNormalizationOutputs()
    {
        var x = F32([1, 1, 2], 1, 2);
        var skip = F32([1, 1, 2], 1, 2);
        var r = Run("SkipLayerNormalization", [x, skip, F32([2], 1, 1), F32([2], 0, 0.5), F32([2], 1, 1)], domain: "com.microsoft", results: 4);
        Near([-1, 1.5], r[0]);
        Near([4], r[1]);
        Near([1], r[2]);
        Near([3, 5], r[3]);
        var s = Run("SkipSimplifiedLayerNormalization", [F32([1, 2], 1, 2), F32([1, 2], 2, 2), F32([2], 1, 2)], domain: "com.microsoft");
        Near([0.848528137423857, 2 * 1.131370849898476], s[0]);
        Near([1.6970555960256115, 2.262741699796952 * 2 * 4 / 8], Run("SimplifiedLayerNormalization", [F32([2], 3, 4), F32([2], 2, 2)])[0]);
    }

    [Fact]
    public void RotaryEmbeddingHalvesAndInterleaved()
    {
        var x = F32([1, 1, 1, 4], 1, 2, 3, 4);
        var cos = F32([2, 2], 1, 1, 0, 0.6);
        var sin = F32([2, 2], 0, 0, 1, 0.8);
        var pos = Ints(IntegerType.I64, [1, 1], 1);
        Near([-3, -2, 1, 4], Run("RotaryEmbedding", [x, pos, cos, sin], domain: "com.microsoft")[0]);
        Near([-2, 1, -1.4, 4.8], Run("RotaryEmbedding", [x, cos, sin, pos], [("interleaved", A(1L))], opset: 23)[0]);

        // com.microsoft: a one-element position_ids is an offset; 3-D input with num_heads.
        var x3 = F32([1, 1, 4], 1, 2, 3, 4);
        Near([-3, -2, 1, 4], Run("RotaryEmbedding", [x3, Ints(IntegerType.I64, [1], 1), cos, sin], [("num_heads", A(1L))], domain: "com.microsoft")[0]);
    }

    [Fact]
    public void MatMulNBitsDequantizesNibblesLowFirst()
    {
        // q = [9, 10, 7, 8], zero point 8 by default, scale 0.5 → w = [0.5, 1, -0.5, 0].
        var b = Ints(IntegerType.U8, [1, 1, 2], 9 | (10 << 4), 7 | (8 << 4));
        var attrs = new (string, Attribute)[] { ("K", A(4L)), ("N", A(1L)), ("bits", A(4L)), ("block_size", A(4L)) };
        var a = F32([1, 4], 1, 2, 3, 4);
        Near([1], Run("MatMulNBits", [a, b, F32([1], 0.5)], attrs, domain: "com.microsoft")[0]);
        Near([11], Run("MatMulNBits", [a, b, F32([1], 0.5), Ints(IntegerType.U8, [1], 9), null, F32([1], 15)], attrs, domain: "com.microsoft")[0]);
    }
}
