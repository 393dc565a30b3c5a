using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Tests.Graph;

/// <summary>Reference kernels of the shape ops, run through the op table; expected values by hand or from the ONNX spec examples.</summary>
public sealed class ShapeOpsTests
{
    private static readonly Context Ctx = Contexts.CreateDefault();

    private static IReadOnlyList<NDArray> Run(string onnxName, int opset, NDArray?[] inputs, (string Name, Attribute Value)[]? attrs = null, Type[]? results = null)
    {
        var irName = GraphOpInfo.IrNameFor(onnxName, "");
        var info = GraphDialect.Info(irName) ?? throw new InvalidOperationException($"{irName} is not in the op table");
        var st = new OperationState(irName, Location.Unknown);
        foreach (var t in results ?? [FloatType.F32])
        {
            st.AddTypes(TensorType.Of(t));
        }

        foreach (var (n, v) in attrs ?? [])
        {
            st.AddAttr(n, v);
        }

        var op = Operation.Create(Ctx, st);
        return info.Kernel(new KernelContext(op, inputs, opset));
    }

    private static NDArray F(long[] shape, params double[] v) => NDArray.Create(FloatType.F32, shape, v);
    private static NDArray L(long[] shape, params long[] v) => NDArray.Create(IntegerType.I64, shape, v);
    private static NDArray Iota(params long[] shape) => F(shape, Enumerable.Range(0, (int)NDArray.Count(shape)).Select(i => (double)i).ToArray());
    private static (string, Attribute) A(string n, long v) => (n, IntegerAttr.I64(v));
    private static (string, Attribute) Arr(string n, params long[] v) => (n, ArrayAttr.OfInts(v));
    private static (string, Attribute) S(string n, string v) => (n, new StringAttr(v));

    private static void Is(NDArray a, long[] shape, params double[] values)
    {
        Assert.Equal(shape, a.Shape);
        Assert.Equal(values, a.AsDoubles());
    }

    [Fact]
    public void Reshape_CopiesZeroInfersMinusOne_AndAllowZeroKeepsZero()
    {
        var r = Run("Reshape", 14, [Iota(2, 3, 4), L([2], 0, -1)])[0];
        Is(r, [2, 12], Enumerable.Range(0, 24).Select(i => (double)i).ToArray());

        var empty = F([0, 3]);
        Is(Run("Reshape", 14, [empty, L([2], 3, 0)], [A("allowzero", 1)])[0], [3, 0]);
        Assert.Throws<EvalException>(() => Run("Reshape", 14, [empty, L([2], 3, 0)]));
    }

    [Fact]
    public void Transpose_DefaultReverses_AndPermAttribute()
    {
        Is(Run("Transpose", 13, [Iota(2, 3)])[0], [3, 2], 0, 3, 1, 4, 2, 5);
        Is(Run("Transpose", 13, [Iota(1, 2, 3)], [Arr("perm", 0, 2, 1)])[0], [1, 3, 2], 0, 3, 1, 4, 2, 5);
    }

    [Fact]
    public void Concat_NegativeAxis()
    {
        var r = Run("Concat", 13, [F([2, 1], 1, 2), F([2, 2], 3, 4, 5, 6)], [A("axis", -1L)])[0];
        Is(r, [2, 3], 1, 3, 4, 2, 5, 6);
    }

    [Fact]
    public void Split_PerOpsetForms()
    {
        var x = F([5], 1, 2, 3, 4, 5);
        var r18 = Run("Split", 18, [x], [A("num_outputs", 3L)], [FloatType.F32, FloatType.F32, FloatType.F32]);
        Is(r18[0], [2], 1, 2);
        Is(r18[1], [2], 3, 4);
        Is(r18[2], [1], 5);

        var r13 = Run("Split", 13, [x, L([2], 1, 4)], results: [FloatType.F32, FloatType.F32]);
        Is(r13[0], [1], 1);
        Is(r13[1], [4], 2, 3, 4, 5);

        var r11 = Run("Split", 11, [x], [Arr("split", 2, 3)], [FloatType.F32, FloatType.F32]);
        Is(r11[1], [3], 3, 4, 5);
        Assert.Throws<EvalException>(() => Run("Split", 13, [x], results: [FloatType.F32, FloatType.F32]));
    }

    [Fact]
    public void Slice_NegativeStepsClampAndAttributeForm()
    {
        // rows 2,1 (end 0 exclusive); columns from 3 down to clamped -1 by -2: 3, 1.
        var r = Run("Slice", 13, [Iota(3, 4), L([2], 2, -1), L([2], 0, -1000), L([2], 0, 1), L([2], -1, -2)])[0];
        Is(r, [2, 2], 11, 9, 7, 5);

        var r9 = Run("Slice", 9, [Iota(3, 4)], [Arr("starts", 1), Arr("ends", 1000), Arr("axes", 1)])[0];
        Is(r9, [3, 3], 1, 2, 3, 5, 6, 7, 9, 10, 11);
    }

    [Fact]
    public void Gather_GatherElements_GatherND()
    {
        var data = F([3, 2], 1, 2, 3, 4, 5, 6);
        Is(Run("Gather", 13, [data, L([1, 2], -1, 0)], [A("axis", 1L)])[0], [3, 1, 2], 2, 1, 4, 3, 6, 5);

        // Spec example: axis 1.
        Is(Run("GatherElements", 13, [F([2, 2], 1, 2, 3, 4), L([2, 2], 0, 0, 1, 0)], [A("axis", 1L)])[0], [2, 2], 1, 1, 4, 3);

        // Spec example 5: batch_dims 1.
        var r = Run("GatherND", 13, [Iota(2, 2, 2), L([2, 1], 1, 0)], [A("batch_dims", 1L)])[0];
        Is(r, [2, 2], 2, 3, 4, 5);
        Is(Run("GatherND", 13, [Iota(2, 2), L([2, 2], 0, 0, 1, 1)])[0], [2], 0, 3);
    }

    [Fact]
    public void ScatterElements_AddWithDuplicates_AndScatterND()
    {
        var data = NDArray.Create(FloatType.F64, [1, 5], [1.0, 2, 3, 4, 5]);
        var upd = NDArray.Create(FloatType.F64, [1, 2], [1.1, 2.1]);
        var r = Run("ScatterElements", 18, [data, L([1, 2], 1, 1), upd], [A("axis", 1L), S("reduction", "add")], [FloatType.F64])[0];
        Assert.Equal([1, 5], r.Shape);
        Assert.Equal(5.2, r.F![1], 12);
        Assert.Equal(1.0, r.F![0]);

        var legacy = Run("Scatter", 9, [F([3], 0, 0, 0), L([2], -1, 0), F([2], 7, 8)])[0];
        Is(legacy, [3], 8, 0, 7);

        var d = L([8], 1, 2, 3, 4, 5, 6, 7, 8);
        Is(Run("ScatterND", 13, [d, L([4, 1], 4, 3, 1, 7), L([4], 9, 10, 11, 12)], results: [IntegerType.I64])[0], [8], 1, 11, 3, 10, 9, 6, 7, 12);
        Is(Run("ScatterND", 16, [d, L([2, 1], 1, 1), L([2], 2, 3)], [S("reduction", "mul")], [IntegerType.I64])[0], [8], 1, 12, 3, 4, 5, 6, 7, 8);
    }

    [Fact]
    public void Pad_Modes_NegativePads_AndAttributeForm()
    {
        var x = F([3], 1, 2, 3);
        var pads = L([2], 2, 2);
        Is(Run("Pad", 19, [x, pads], [S("mode", "reflect")])[0], [7], 3, 2, 1, 2, 3, 2, 1);
        Is(Run("Pad", 19, [x, pads], [S("mode", "edge")])[0], [7], 1, 1, 1, 2, 3, 3, 3);
        Is(Run("Pad", 19, [x, pads], [S("mode", "wrap")])[0], [7], 2, 3, 1, 2, 3, 1, 2);
        Is(Run("Pad", 18, [x, L([2], -1, 1), F([], 9)])[0], [3], 2, 3, 9);
        Is(Run("Pad", 2, [x], [Arr("pads", 1, 0), ("value", new FloatAttr(-1, FloatType.F32))])[0], [4], -1, 1, 2, 3);

        // axes input (opset 18): pad only the last axis of a 2x2.
        Is(Run("Pad", 18, [F([2, 2], 1, 2, 3, 4), L([2], 1, 0), null, L([1], -1)])[0], [2, 3], 0, 1, 2, 0, 3, 4);
    }

    [Fact]
    public void Squeeze_Unsqueeze_Flatten()
    {
        var x = Iota(1, 3, 1);
        Is(Run("Squeeze", 13, [x, L([1], -1)])[0], [1, 3], 0, 1, 2);
        Is(Run("Squeeze", 13, [x])[0], [3], 0, 1, 2);
        Is(Run("Squeeze", 11, [x], [Arr("axes", 0)])[0], [3, 1], 0, 1, 2);
        Assert.Throws<EvalException>(() => Run("Squeeze", 13, [x, L([1], 1)]));

        Is(Run("Unsqueeze", 11, [Iota(3)], [Arr("axes", 0, -1)])[0], [1, 3, 1], 0, 1, 2);
        Is(Run("Unsqueeze", 13, [Iota(3), L([1], 1)])[0], [3, 1], 0, 1, 2);

        Assert.Equal([1, 6], Run("Flatten", 13, [Iota(2, 3)], [A("axis", 0L)])[0].Shape);
        Assert.Equal([6, 4], Run("Flatten", 13, [Iota(2, 3, 4)], [A("axis", -1L)])[0].Shape);
    }

    [Fact]
    public void Shape_StartEnd_AndSize()
    {
        var x = Iota(2, 3, 4);
        Is(Run("Shape", 15, [x], [A("start", -2L)])[0], [2], 3, 4);
        Is(Run("Shape", 15, [x], [A("end", 1L)])[0], [1], 2);
        Is(Run("Shape", 15, [x], [A("start", 5L)])[0], [0]);
        var s = Run("Size", 13, [x])[0];
        Assert.Equal(IntegerType.I64, s.ElementType);
        Is(s, [], 24);
    }

    [Fact]
    public void Range_IntAndFloat()
    {
        NDArray I32(long v) => NDArray.Create(IntegerType.I32, [], [v]);
        Is(Run("Range", 11, [I32(10), I32(4), I32(-3)])[0], [2], 10, 7);
        Is(Run("Range", 11, [I32(1), I32(1), I32(1)])[0], [0]);
        var f = Run("Range", 11, [F([], 1), F([], 2), NDArray.Create(FloatType.F64, [], [0.3])])[0];
        Assert.Equal([4], f.Shape);
        Assert.Equal(1.9, f.F![3], 6);
    }

    [Fact]
    public void ConstantOfShape_ValueAndDefault()
    {
        var value = DenseElementsAttr.FromLongs(TensorType.Of(IntegerType.I32, 1), [7]);
        var r = Run("ConstantOfShape", 20, [L([2], 2, 2)], [("value", value)], [IntegerType.I32])[0];
        Assert.Equal(IntegerType.I32, r.ElementType);
        Is(r, [2, 2], 7, 7, 7, 7);
        var z = Run("ConstantOfShape", 20, [L([0])])[0];
        Assert.Equal(FloatType.F32, z.ElementType);
        Is(z, [], 0);
    }

    [Fact]
    public void Identity_And_Tile_And_Expand()
    {
        var x = Iota(2);
        Assert.Same(x, Run("Identity", 16, [x])[0]);
        Is(Run("Tile", 13, [F([1, 2], 1, 2), L([2], 2, 2)])[0], [2, 4], 1, 2, 1, 2, 1, 2, 1, 2);
        Is(Run("Expand", 13, [F([2, 1], 1, 2), L([3], 2, 1, 3)])[0], [2, 2, 3], 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2);
    }

    [Fact]
    public void Trilu_UpperAndLowerWithK()
    {
        Is(Run("Trilu", 14, [Iota(3, 3), L([], -1)], [A("upper", 0L)])[0], [3, 3], 0, 0, 0, 3, 0, 0, 6, 7, 0);
        Is(Run("Trilu", 14, [Iota(3, 3), L([], 1)])[0], [3, 3], 0, 1, 2, 0, 0, 5, 0, 0, 0);
    }

    [Fact]
    public void OneHot_NegativeAndOutOfRangeIndices_Axis0()
    {
        var r = Run("OneHot", 11, [L([3], 0, -1, 5), F([], 3), F([2], 0, 1)], [A("axis", 0L)])[0];
        Is(r, [3, 3], 1, 0, 0, 0, 0, 0, 0, 1, 0);
    }

    [Fact]
    public void NonZero_RowPerDimension()
    {
        var r = Run("NonZero", 13, [F([2, 2], 1, 0, 1, 1)], results: [IntegerType.I64])[0];
        Is(r, [2, 3], 0, 1, 1, 0, 0, 1);
    }

    [Fact]
    public void DepthToSpace_SpecExamples_AndSpaceToDepthInverts()
    {
        var x = Iota(1, 8, 2, 3);
        var dcr = Run("DepthToSpace", 13, [x], [A("blocksize", 2L)])[0];
        Is(dcr, [1, 2, 4, 6],
            0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39, 28, 40, 29, 41,
            6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47);
        var crd = Run("DepthToSpace", 13, [x], [A("blocksize", 2L), S("mode", "CRD")])[0];
        Is(crd, [1, 2, 4, 6],
            0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23,
            24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47);

        Is(Run("SpaceToDepth", 13, [dcr], [A("blocksize", 2L)])[0], [1, 8, 2, 3], x.AsDoubles());
        Is(Run("SpaceToDepth", 25, [crd], [A("blocksize", 2L), S("mode", "CRD")])[0], [1, 8, 2, 3], x.AsDoubles());
    }

    [Fact]
    public void Compress_FlattenedAndAlongAxis()
    {
        var x = F([3, 2], 1, 2, 3, 4, 5, 6);
        var cond = NDArray.Create(IntegerType.I1, [5], [0L, 1, 0, 0, 1]);
        Is(Run("Compress", 11, [x, cond])[0], [2], 2, 5);
        Is(Run("Compress", 11, [x, NDArray.Create(IntegerType.I1, [2], [0L, 1])], [A("axis", -1L)])[0], [3, 1], 2, 4, 6);
    }

    [Fact]
    public void EyeLike_OffDiagonalWithDtype()
    {
        var r = Run("EyeLike", 9, [Iota(2, 3)], [A("k", 1L), A("dtype", (long)OnnxTypes.Int64)], [IntegerType.I64])[0];
        Assert.Equal(IntegerType.I64, r.ElementType);
        Is(r, [2, 3], 0, 1, 0, 0, 0, 1);
    }

    [Fact]
    public void Dropout_InferenceIsIdentityWithTrueMask()
    {
        var x = F([3], 1, 2, 3);
        var r = Run("Dropout", 13, [x, F([], 0.5)], results: [FloatType.F32, IntegerType.I1]);
        Is(r[0], [3], 1, 2, 3);
        Assert.Equal(IntegerType.I1, r[1].ElementType);
        Is(r[1], [3], 1, 1, 1);
        Assert.Single(Run("Dropout", 13, [x]));
        Assert.Throws<EvalException>(() => Run("Dropout", 13, [x, F([], 0.5), NDArray.Create(IntegerType.I1, [], [1L])]));
    }

    [Fact]
    public void Dropout_TrainingWithSeedMatchesNumpyRandomState()
    {
        // numpy: RandomState(0).uniform(0, 1, 4) = [0.5488, 0.7152, 0.6028, 0.5449]; kept where >= 0.6, scaled by 1/(1-0.6).
        var r = Run("Dropout", 13, [F([4], 1, 1, 1, 1), F([], 0.6), NDArray.Create(IntegerType.I1, [], [1L])], [A("seed", 0L)], [FloatType.F32, IntegerType.I1]);
        Is(r[1], [4], 0, 1, 1, 0);
        Assert.Equal(0, r[0].F![0]);
        Assert.Equal(2.5, r[0].F![1], 5);
        Assert.Equal(2.5, r[0].F![2], 5);
    }

    [Fact]
    public void ReverseSequence_SpecExampleTimeMajor()
    {
        var r = Run("ReverseSequence", 10, [Iota(4, 4), L([4], 4, 3, 2, 1)], [A("time_axis", 0L), A("batch_axis", 1L)])[0];
        Is(r, [4, 4], 12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15);
    }
}
