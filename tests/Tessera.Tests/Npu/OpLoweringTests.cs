using static Tessera.Tests.Npu.NpuTestUtil;
using System.Globalization;
using Tessera.Dialects.Graph;
using Tessera.IR.Passes;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using Tessera.Passes;
using Tessera.Passes.Npu;
using Tessera.Tests.Passes;
using Xunit.Abstractions;

namespace Tessera.Tests.Npu;

/// <summary>
/// Batched and transposed matmuls, slice/concat/split and reductions, each compiled from a small function through
/// npu-partition, npu-tile and the whole-function lowering, run in the simulator (which throws on a hazard, deadlock or
/// out-of-bounds access) and compared with the reference evaluator on the same f16 inputs. Data movement must be bit
/// exact. Matmuls: |npu − ref| ≤ ulp + 2·K·2⁻²⁴·Σ|a·b| (fp32 accumulation in order, one rounding; see
/// MatmulLoweringTests), with Σ|a·b| ≤ K for inputs in [−1, 1]. Reductions: sums accumulate n values in fp32
/// (lane-striped), so ≤ 2·ulp + 2·n·2⁻²⁴·Σ|x|; max/min pick an input and are exact.
/// </summary>
public class OpLoweringTests(ITestOutputHelper output)
{
    /// <summary>The bundle steps of the last <see cref="Run"/>.</summary>
    private int _steps;

    private static double Ulp(double v)
    {
        double minNormal = Math.Pow(2, -14);
        return Math.Pow(2, Math.Floor(Math.Log2(Math.Max(Math.Abs(v), minNormal))) - 10);
    }

    /// <summary>Compiles <paramref name="tir"/>'s function @f, checks every graph op is on the NPU, runs it on random inputs
    /// and returns (got, reference, inputs) per result.</summary>
    private (double[][] Got, double[][] Want) Run(string tir, string config = "e1", int seed = 1, Action<Operation>? edit = null)
    {
        var (ctx, module) = PassTestUtil.Parse(tir);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), $"builtin.module(func.func(npu-partition,npu-tile{{config={config}}}))", diags);
        Assert.True(pm is not null && pm.Run(module, diags).Succeeded, diags.Render());
        var func = PassTestUtil.Func(module, "f");
        foreach (var op in module.Walk().Where(o => o.Name.StartsWith("graph.", StringComparison.Ordinal)))
        {
            Assert.True((op.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value is "npu" or "alias", $"{op.Name}: {(op.GetAttr(NpuPlacement.ReasonAttr) as StringAttr)?.Value}");
            edit?.Invoke(op);
        }

        var bundle = NpuIR.Lower(ctx, module, "f", config).Bundle;
        Assert.All(bundle.Steps, s => Assert.Equal("npu", s.Kind));
        _steps = bundle.Steps.Count;
        var rng = new Random(seed);
        var body = func.Regions[0].EntryBlock!;
        var args = body.Arguments.Select(a =>
        {
            var t = (TensorType)a.Type;
            long n = t.ElementCount!.Value;
            var shape = t.Shape!.Select(d => d.Size).ToArray();
            return t.ElementType is IntegerType
                ? NDArray.Create(t.ElementType, shape, Enumerable.Range(0, (int)n).Select(_ => (double)rng.Next(-1000, 1000)).ToArray())
                : NDArray.Create(t.ElementType, shape, Enumerable.Range(0, (int)n).Select(_ => (double)(Half)((rng.NextDouble() * 2) - 1)).ToArray());
        }).ToArray();
        var want = GraphEvaluator.Run(func, args).Select(r => r.AsDoubles()).ToArray();

        var session = new BundleSession(bundle);
        var inputs = bundle.Program.Tensors.Where(x => x.Role == "input").ToList();
        for (int i = 0; i < args.Length; i++)
        {
            session.Write(inputs[i].Name, Tessera.Dialects.Graph.Convert.ToAttr(args[i]).Storage.Span);
        }

        var run = session.Run(null);
        output.WriteLine($"{bundle.Steps.Count} steps, {run.Total.Cycles} cycles");
        var outs = bundle.Program.Tensors.Where(x => x.Role == "output").ToList();
        var results = ((Operation)body.Operations.Last()).Operands.Select(v => (TensorType)v!.Type).ToList();
        var got = outs.Select((o, i) => Tessera.Dialects.Graph.Convert.FromAttr(new DenseElementsAttr(results[i], new ArrayStorage(session.Read(o.Name)))).AsDoubles()).ToArray();
        return (got, want);
    }

    private static void Exact(double[][] got, double[][] want)
    {
        Assert.Equal(want.Length, got.Length);
        for (int r = 0; r < want.Length; r++)
        {
            Assert.Equal(want[r], got[r]);
        }
    }

    private static void Close(double[] got, double[] want, Func<int, double> slack)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            double tol = Ulp(Math.Max(Math.Abs(got[i]), Math.Abs(want[i]))) + slack(i);
            Assert.True(Math.Abs(got[i] - want[i]) <= tol, $"[{i}] = {got[i]}, reference {want[i]}, tolerance {tol}");
        }
    }

    private static string T(long[] s, string et = "f16") => $"tensor<{string.Join("x", s)}x{et}>";

    private static string Ints(params long[] v) => $"dense<[{string.Join(", ", v.Select(x => x.ToString(CultureInfo.InvariantCulture)))}]> : tensor<{v.Length}xi64>";

    // ---- matmuls ----

    public static TheoryData<long[], long[], string?> BatchedShapes => new()
    {
        { [2, 3, 8, 24], [2, 3, 24, 40], null },       // batch of 6, both activations
        { [16, 24], [3, 24, 40], null },               // a 2-D left operand shared by every batch element
        { [2, 1, 8, 24], [3, 24, 40], null },          // broadcast both ways: batch [2, 3]
        { [2, 70, 96], [2, 96, 75], "a" },             // several tiles per batch element, A stationary
        { [2, 70, 96], [2, 96, 75], "b" },             // the same, B stationary
        { [3, 8, 40], [1, 40, 24], null },             // B the same for every batch element: folds into M
    };

    [Theory]
    [MemberData(nameof(BatchedShapes))]
    public void BatchedMatmul(long[] a, long[] b, string? stationary)
    {
        int rank = Math.Max(a.Length, b.Length);
        var batch = Enumerable.Range(0, rank - 2).Select(d =>
        {
            long da = d - rank + a.Length >= 0 && a.Length > 2 ? a[d - rank + a.Length] : 1, db = d - rank + b.Length >= 0 ? b[d - rank + b.Length] : 1;
            return Math.Max(da, db);
        });
        long[] c = [.. batch, a[^2], b[^1]];
        string tir = $"func.func @f(%a: {T(a)}, %b: {T(b)}) -> {T(c)} {{\n  %c = graph.mat_mul(%a, %b) : ({T(a)}, {T(b)}) -> {T(c)}\n  func.return(%c) : {T(c)}\n}}\n";
        long k = a[^1];
        var (got, want) = Run(tir, edit: stationary is null ? null : op =>
        {
            // Small tiles, so each batch element takes several steps and the pipeline crosses batch boundaries.
            op.SetAttr(NpuMatmulLowering.TileMAttr, IntegerAttr.I64(32));
            op.SetAttr(NpuMatmulLowering.TileNAttr, IntegerAttr.I64(32));
            op.SetAttr(NpuMatmulLowering.TileKAttr, IntegerAttr.I64(32));
            op.SetAttr(NpuMatmulLowering.StationaryAttr, new StringAttr(stationary));
        });
        Close(got[0], want[0], _ => 2.0 * k * k * Math.Pow(2, -24));
    }

    [Fact]
    public void MatrixVectorProduct()
    {
        string tir = "func.func @f(%a: tensor<2x30x40xf16>, %v: tensor<40xf16>) -> tensor<2x30xf16> {\n" +
            "  %y = graph.mat_mul(%a, %v) : (tensor<2x30x40xf16>, tensor<40xf16>) -> tensor<2x30xf16>\n" +
            "  func.return(%y) : tensor<2x30xf16>\n}\n";
        var (got, want) = Run(tir);
        Close(got[0], want[0], _ => 2.0 * 40 * 40 * Math.Pow(2, -24));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    public void GemmWithTransposedActivations(int transA, int transB)
    {
        const int m = 20, n = 36, k = 48;
        long[] a = transA != 0 ? [k, m] : [m, k], b = transB != 0 ? [n, k] : [k, n];
        string tir = $"func.func @f(%a: {T(a)}, %b: {T(b)}, %bias: tensor<{n}xf16>) -> tensor<{m}x{n}xf16> {{\n" +
            $"  %c = graph.gemm(%a, %b, %bias) {{transA = {transA}, transB = {transB}}} : ({T(a)}, {T(b)}, tensor<{n}xf16>) -> tensor<{m}x{n}xf16>\n" +
            $"  func.return(%c) : tensor<{m}x{n}xf16>\n}}\n";
        var (got, want) = Run(tir);
        // The bias add is a second rounding: one more ulp.
        Close(got[0], want[0], i => Ulp(want[0][i]) + (2.0 * k * k * Math.Pow(2, -24)));
    }

    [Theory]
    [InlineData(false, 1)]   // q · kᵀ per head: the transpose folds into the matmul's strides, one step
    [InlineData(true, 2)]    // the transpose is also a result, so it stays a DMA step of its own
    public void TransposeFeedingABatchedMatmul(bool returnTranspose, int steps)
    {
        string results = returnTranspose ? "(tensor<1x2x8x8xf16>, tensor<1x2x16x8xf16>)" : "tensor<1x2x8x8xf16>";
        string tir = $"func.func @f(%q: tensor<1x2x8x16xf16>, %k: tensor<1x2x8x16xf16>) -> {results} {{\n" +
            "  %kt = graph.transpose(%k) {perm = [0, 1, 3, 2]} : (tensor<1x2x8x16xf16>) -> tensor<1x2x16x8xf16>\n" +
            "  %s = graph.mat_mul(%q, %kt) : (tensor<1x2x8x16xf16>, tensor<1x2x16x8xf16>) -> tensor<1x2x8x8xf16>\n" +
            (returnTranspose ? "  func.return(%s, %kt) : (tensor<1x2x8x8xf16>, tensor<1x2x16x8xf16>) -> ()\n}\n" : "  func.return(%s) : tensor<1x2x8x8xf16>\n}\n");
        var (got, want) = Run(tir);
        Assert.Equal(steps, _steps);
        Close(got[0], want[0], _ => 2.0 * 16 * 16 * Math.Pow(2, -24));
        if (returnTranspose)
        {
            Exact([got[1]], [want[1]]);
        }
    }

    [Fact]
    public void TransposedLeftOperandFoldsIntoABatchedMatmul()
    {
        string tir = "func.func @f(%a: tensor<3x40x20xf16>, %b: tensor<40x36xf16>) -> tensor<3x20x36xf16> {\n" +
            "  %at = graph.transpose(%a) {perm = [0, 2, 1]} : (tensor<3x40x20xf16>) -> tensor<3x20x40xf16>\n" +
            "  %c = graph.mat_mul(%at, %b) : (tensor<3x20x40xf16>, tensor<40x36xf16>) -> tensor<3x20x36xf16>\n" +
            "  func.return(%c) : tensor<3x20x36xf16>\n}\n";
        var (got, want) = Run(tir);
        Assert.Equal(1, _steps);
        Close(got[0], want[0], _ => 2.0 * 40 * 40 * Math.Pow(2, -24));
    }

    // ---- data movement ----

    [Fact]
    public void SliceWithStepsAndNegativeStep()
    {
        string tir = "func.func @f(%x: tensor<4x10x12xf16>) -> (tensor<3x10x4xf16>, tensor<4x5x12xf16>) {\n" +
            $"  %s0 = arith.constant {Ints(1, 2)}\n  %e0 = arith.constant {Ints(4, 12)}\n  %a0 = arith.constant {Ints(0, 2)}\n  %p0 = arith.constant {Ints(1, 3)}\n" +
            "  %y = graph.slice(%x, %s0, %e0, %a0, %p0) : (tensor<4x10x12xf16>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<3x10x4xf16>\n" +
            $"  %s1 = arith.constant {Ints(-1)}\n  %e1 = arith.constant {Ints(-100)}\n  %a1 = arith.constant {Ints(1)}\n  %p1 = arith.constant {Ints(-2)}\n" +
            "  %z = graph.slice(%x, %s1, %e1, %a1, %p1) : (tensor<4x10x12xf16>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x5x12xf16>\n" +
            "  func.return(%y, %z) : (tensor<3x10x4xf16>, tensor<4x5x12xf16>) -> ()\n}\n";
        var (got, want) = Run(tir);
        Exact(got, want);
    }

    [Fact]
    public void ConcatAndSplit()
    {
        // GPT-2's fused-QKV split along the last axis, a split along axis 0, and a concat of three along a middle axis.
        string tir = "func.func @f(%x: tensor<1x16x96xf16>, %a: tensor<2x3x8xf16>, %b: tensor<2x5x8xf16>, %c: tensor<2x1x8xf16>) -> " +
            "(tensor<1x16x32xf16>, tensor<1x16x32xf16>, tensor<1x16x32xf16>, tensor<2x9x8xf16>, tensor<1x9x8xf16>, tensor<1x9x8xf16>) {\n" +
            "  %q:3 = graph.split(%x) {axis = 2, onnx_opset = 13} : (tensor<1x16x96xf16>) -> (tensor<1x16x32xf16>, tensor<1x16x32xf16>, tensor<1x16x32xf16>)\n" +
            "  %y = graph.concat(%a, %b, %c) {axis = 1} : (tensor<2x3x8xf16>, tensor<2x5x8xf16>, tensor<2x1x8xf16>) -> tensor<2x9x8xf16>\n" +
            "  %h:2 = graph.split(%y) {axis = 0, onnx_opset = 13} : (tensor<2x9x8xf16>) -> (tensor<1x9x8xf16>, tensor<1x9x8xf16>)\n" +
            "  func.return(%q#0, %q#1, %q#2, %y, %h#0, %h#1) : (tensor<1x16x32xf16>, tensor<1x16x32xf16>, tensor<1x16x32xf16>, tensor<2x9x8xf16>, tensor<1x9x8xf16>, tensor<1x9x8xf16>) -> ()\n}\n";
        var (got, want) = Run(tir);
        Exact(got, want);
    }

    [Fact]
    public void TransposesBeyondThreeDmaDimsAreStridedCopies()
    {
        // [2,3,4,5] → perm [3,1,0,2] keeps four separate dims; and an int64 transpose moves 8-byte elements as pairs.
        string tir = "func.func @f(%x: tensor<2x3x4x5xf16>, %i: tensor<3x4xi64>) -> (tensor<5x3x2x4xf16>, tensor<4x3xi64>) {\n" +
            "  %y = graph.transpose(%x) {perm = [3, 1, 0, 2]} : (tensor<2x3x4x5xf16>) -> tensor<5x3x2x4xf16>\n" +
            "  %j = graph.transpose(%i) {perm = [1, 0]} : (tensor<3x4xi64>) -> tensor<4x3xi64>\n" +
            "  func.return(%y, %j) : (tensor<5x3x2x4xf16>, tensor<4x3xi64>) -> ()\n}\n";
        var (got, want) = Run(tir);
        Exact(got, want);
    }

    [Fact]
    public void ConcatOfInt64MovesBytesExactly()
    {
        string tir = "func.func @f(%a: tensor<3x2xi64>, %b: tensor<3x5xi64>) -> tensor<3x7xi64> {\n" +
            "  %y = graph.concat(%a, %b) {axis = 1} : (tensor<3x2xi64>, tensor<3x5xi64>) -> tensor<3x7xi64>\n" +
            "  func.return(%y) : tensor<3x7xi64>\n}\n";
        var (got, want) = Run(tir);
        Exact(got, want);
    }

    [Fact]
    public void LargeSliceIsChunkedThroughSram()
    {
        // 2 × 1000 × 700 f16 columns 100..800 of 1000 rows: more than half of e1's SRAM, so several double-buffered chunks.
        string tir = "func.func @f(%x: tensor<2x1000x900xf16>) -> tensor<2x1000x700xf16> {\n" +
            $"  %s = arith.constant {Ints(100)}\n  %e = arith.constant {Ints(800)}\n  %a = arith.constant {Ints(2)}\n" +
            "  %y = graph.slice(%x, %s, %e, %a) : (tensor<2x1000x900xf16>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x1000x700xf16>\n" +
            "  func.return(%y) : tensor<2x1000x700xf16>\n}\n";
        var (got, want) = Run(tir);
        Exact(got, want);
    }

    // ---- reductions ----

    [Theory]
    [InlineData("reduce_sum", new long[] { 6, 40 }, new long[] { -1 }, 1)]
    [InlineData("reduce_mean", new long[] { 2, 7, 40 }, new long[] { 2 }, 0)]
    [InlineData("reduce_max", new long[] { 2, 7, 40 }, new long[] { 1 }, 1)]           // a middle axis
    [InlineData("reduce_min", new long[] { 3, 5, 4, 6 }, new long[] { 1, 2 }, 0)]      // two middle axes
    [InlineData("reduce_sum_square", new long[] { 9, 33 }, new long[] { 0 }, 1)]       // the leading axis
    [InlineData("reduce_mean", new long[] { 4, 1, 50 }, new long[] { 0, 1, 2 }, 1)]    // everything (keepdims: the bundle has no rank-0 tensors)
    [InlineData("reduce_sum", new long[] { 3, 70000 }, new long[] { 1 }, 1)]           // a row longer than one v.rsum
    [InlineData("reduce_max", new long[] { 4, 1, 8 }, new long[] { 1 }, 0)]             // only a unit dim: a copy
    [InlineData("reduce_sum", new long[] { 3, 4, 5 }, new long[] { 0, 2 }, 0)]          // two runs: the last one a tile, the first accumulated
    [InlineData("reduce_min", new long[] { 2, 3, 4, 5 }, new long[] { 1, 3 }, 1)]       // two runs after a kept axis, which is a loop
    [InlineData("reduce_mean", new long[] { 40, 300, 50 }, new long[] { 0, 2 }, 1)]     // two runs: 40 loads accumulated
    [InlineData("reduce_mean", new long[] { 301, 3, 700 }, new long[] { 1 }, 1)]        // a middle axis: a transposed tile per outer index
    [InlineData("reduce_sum", new long[] { 3, 4, 5, 6 }, new long[] { 0, 2 }, 0)]       // a transposed tile, an earlier reduced axis accumulated
    [InlineData("reduce_min", new long[] { 2, 3, 2, 3, 4 }, new long[] { 0, 2, 4 }, 1)] // two accumulated axes: the first load of each peeled
    [InlineData("reduce_sum_square", new long[] { 4, 5, 6 }, new long[] { 0, 2 }, 0)]   // squares accumulated element-wise
    [InlineData("reduce_max", new long[] { 2, 3, 260, 260, 2 }, new long[] { 0, 2, 3 }, 0)] // a reduced run over 65535 before a kept one: split
    public void Reduction(string op, long[] shape, long[] axes, int keepdims)
    {
        var set = axes.Select(a => a < 0 ? a + shape.Length : a).ToHashSet();
        long[] o = keepdims != 0 ? shape.Select((d, i) => set.Contains(i) ? 1 : d).ToArray() : shape.Where((_, i) => !set.Contains(i)).ToArray();
        string ot = o.Length == 0 ? "tensor<f16>" : T(o);
        long n = shape.Where((_, i) => set.Contains(i)).Aggregate(1L, (x, y) => x * y);

        // reduce_sum takes its axes as an operand since opset 13, the others since 18; both forms are exercised.
        string tir = op == "reduce_sum"
            ? $"func.func @f(%x: {T(shape)}) -> {ot} {{\n  %ax = arith.constant {Ints(axes)}\n" +
              $"  %y = graph.{op}(%x, %ax) {{keepdims = {keepdims}, onnx_opset = 13}} : ({T(shape)}, tensor<{axes.Length}xi64>) -> {ot}\n  func.return(%y) : {ot}\n}}\n"
            : $"func.func @f(%x: {T(shape)}) -> {ot} {{\n" +
              $"  %y = graph.{op}(%x) {{axes = [{string.Join(", ", axes)}], keepdims = {keepdims}, onnx_opset = 17}} : ({T(shape)}) -> {ot}\n  func.return(%y) : {ot}\n}}\n";
        var (got, want) = Run(tir);
        if (op is "reduce_max" or "reduce_min")
        {
            Exact(got, want);
            return;
        }

        // Σ|x| ≤ n (squares too) for inputs in [−1, 1]; a mean divides the bound by n.
        double bound = 2.0 * n * Math.Pow(2, -24) * n / (op == "reduce_mean" ? n : 1);
        Close(got[0], want[0], i => Ulp(want[0][i]) + bound);
    }

    [Fact]
    public void ReductionsThatStayOnTheHostSayWhy()
    {
        // Axes computed at run time: the gather's addresses would not be known at compile time.
        var (ctx, module) = PassTestUtil.Parse("func.func @f(%x: tensor<3x4x5xf16>, %ax: tensor<2xi64>) -> tensor<1x4x1xf16> {\n" +
            "  %y = graph.reduce_sum(%x, %ax) {keepdims = 1, onnx_opset = 13} : (tensor<3x4x5xf16>, tensor<2xi64>) -> tensor<1x4x1xf16>\n" +
            "  func.return(%y) : tensor<1x4x1xf16>\n}\n");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        var op = module.Walk().Single(o => o.Name == "graph.reduce_sum");
        Assert.Equal("host", (op.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value);
        Assert.Contains("not compile-time constants", (op.GetAttr(NpuPlacement.ReasonAttr) as StringAttr)?.Value);
    }

    // ---- pad ----

    [Theory]
    [InlineData("1x2x16x64", "[0, 0, 0, 0, 0, 0, 112, 0]", "1x2x128x64", null)]   // a GGUF KV cache padded to its context
    [InlineData("3x5", "[2, 0, 1, 0]", "6x5", "1.5")]                             // before and after the outer axis, a value
    [InlineData("4x6x3", "[0, 0, 3, 0, 0, 0]", "4x6x6", "-2.0")]                  // before the inner axis only
    [InlineData("2x3", "[0, 0, 0, 0]", "2x3", null)]                              // nothing to pad: a copy
    public void ConstantPadOfOneAxisIsAPaddedLoad(string x, string pads, string y, string? value)
    {
        int rank = x.Split('x').Length;
        string valueArg = value is null ? "" : ", %v";
        string valueDecl = value is null ? "" : $"  %v = arith.constant dense<{value}> : tensor<f16>\n";
        string valueType = value is null ? "" : ", tensor<f16>";
        string tir = $"func.func @f(%x: tensor<{x}xf16>) -> tensor<{y}xf16> {{\n" +
            $"  %p = arith.constant dense<{pads}> : tensor<{2 * rank}xi64>\n" + valueDecl +
            $"  %y = graph.pad(%x, %p{valueArg}) {{onnx_opset = 17}} : (tensor<{x}xf16>, tensor<{2 * rank}xi64>{valueType}) -> tensor<{y}xf16>\n" +
            $"  func.return(%y) : tensor<{y}xf16>\n}}\n";
        var (got, want) = Run(tir);
        Exact(got, want);
    }

    [Fact]
    public void PadsThatStayOnTheHostSayWhy()
    {
        var (ctx, module) = PassTestUtil.Parse("func.func @f(%x: tensor<3x4xf16>, %p: tensor<4xi64>) -> (tensor<5x6xf16>, tensor<5x4xf16>) {\n" +
            "  %c = arith.constant dense<[1, 1, 1, 1]> : tensor<4xi64>\n" +
            "  %a = graph.pad(%x, %c) {onnx_opset = 17} : (tensor<3x4xf16>, tensor<4xi64>) -> tensor<5x6xf16>\n" +
            "  %b = graph.pad(%x, %p) {onnx_opset = 17} : (tensor<3x4xf16>, tensor<4xi64>) -> tensor<5x4xf16>\n" +
            "  func.return(%a, %b) : (tensor<5x6xf16>, tensor<5x4xf16>) -> ()\n}\n");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        var ops = module.Walk().Where(o => o.Name == "graph.pad").Select(o => (o.GetAttr(NpuPlacement.ReasonAttr) as StringAttr)?.Value).ToList();
        Assert.Contains("more than one axis", ops[0]);
        Assert.Contains("compile-time constants", ops[1]);
    }

    // ---- element-wise ops as tile dispatches ----

    [Theory]
    [InlineData("add", "3x37x70", "f16")]      // 111 rows: blocks of 28 and a ragged last block
    [InlineData("mul", "1x5x1000", "bf16")]
    [InlineData("max", "2x130", "f16")]
    [InlineData("silu", "1x64x896", "f16")]
    [InlineData("gelu", "7x3x33", "bf16")]
    [InlineData("exp", "4x100", "f16")]
    public void ElementwiseOpsRunAsTileDispatches(string op, string shape, string et)
    {
        string t = $"tensor<{shape}x{et}>";
        bool binary = op is "add" or "mul" or "max";
        string tir = binary
            ? $"func.func @f(%a: {t}, %b: {t}) -> {t} {{\n  %y = graph.{op}(%a, %b) : ({t}, {t}) -> {t}\n  func.return(%y) : {t}\n}}\n"
            : $"func.func @f(%a: {t}) -> {t} {{\n  %y = graph.{op}(%a) : ({t}) -> {t}\n  func.return(%y) : {t}\n}}\n";
        var (ctx, module) = PassTestUtil.Parse(tir);
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition,npu-vector-to-tile))", new DiagnosticBag())!;
        var copy = module.Clone(ctx, new IRMapping());
        Assert.True(pm.Run(copy, new DiagnosticBag()).Succeeded);
        Assert.Equal(1, copy.Walk().Count(o => o.Name == "tile.dispatch"));
        var (got, want) = Run(tir);
        // One fp32 computation, rounded once: half an ulp of the type, plus the transcendental's few fp32 ulps.
        Close(got[0], want[0], i => (et == "bf16" ? NpuTestUtil.Ulp(want[0][i], "bf16") : 0) + 1e-6);
    }
}
