using static Tessera.Tests.Npu.NpuTestUtil;
using Tessera.IR.Passes;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using Tessera.Passes;
using Tessera.Passes.Npu;
using Tessera.Tests.Passes;
using Xunit.Abstractions;

namespace Tessera.Tests.Npu;

/// <summary>
/// The vector-unit ops (element-wise with every broadcast, activations, softmax, rms_norm, layer_norm, rope), each compiled from a
/// graph function through npu-partition, npu-vector-to-tile (tile.dispatch over row blocks) and npu-lower, run in the
/// simulator on random f16/bf16 inputs (fixed seeds) and compared with a double-precision reference written here. The
/// simulator stops on any hazard, deadlock or out-of-bounds access, so a run that finishes had none.
/// <para>Tolerance per element: |npu − ref| ≤ 2·ulp_T(|ref|) + 1e-5, T the element type. The dispatch computes in fp32
/// (relative error a few 2^-24 per step, exp within 2 fp32 ulp) and rounds once to T (half an ulp); 2 ulp covers both
/// with room. The absolute 1e-5 covers outputs that cancel to near zero (x − mean, a − b), where the fp32 error is
/// relative to the operands (|operands| ≤ ~10 here, 10·2^-24·few ≪ 1e-5), not to the tiny result.</para>
/// </summary>
public class RowKernelTests(ITestOutputHelper output)
{
    private static double[] Random(long count, int seed, double lo, double hi, string t)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, (int)count).Select(_ => Round(lo + (rng.NextDouble() * (hi - lo)), t)).ToArray();
    }

    private static string T(long[] shape, string et) => $"tensor<{string.Join('x', shape)}x{et}>";

    /// <summary>Compiles <c>%y = graph.OP(args) {attrs}</c> for <paramref name="target"/>, checks it became one tile
    /// dispatch on the NPU, runs it on <paramref name="inputs"/> and returns the result, the run and the dispatch's rows per block.</summary>
    private (double[] Y, SimResult Result, long BlockRows) Run(NpuTarget target, string op, string type, (long[] Shape, double[] Values)[] inputs, long[] result, string attrs = "")
    {
        string args = string.Join(", ", inputs.Select((x, i) => $"%a{i}: {T(x.Shape, type)}"));
        string tir = $"func.func @f({args}) -> {T(result, type)} {{\n"
            + $"  %y = graph.{op}({string.Join(", ", inputs.Select((_, i) => $"%a{i}"))}){(attrs == "" ? "" : $" {{{attrs}}}")} : ({string.Join(", ", inputs.Select(x => T(x.Shape, type)))}) -> {T(result, type)}\n"
            + $"  func.return(%y) : {T(result, type)}\n}}\n";
        var (ctx, module) = PassTestUtil.Parse(tir);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags);
        Assert.True(pm is not null && pm.Run(module, diags).Succeeded, diags.Render());
        var graphOp = module.Walk().Single(o => o.Name == $"graph.{op}");
        Assert.Equal(NpuPlacement.Npu, (graphOp.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value);
        long rb = RowKernels.Of(graphOp)?.BlockRows(target) ?? 0;   // 0: not a row kernel (rope)

        var bundle = NpuIR.Lower(ctx, module, "f", target.Name).Bundle;
        Assert.Single(bundle.Steps);
        var session = new BundleSession(bundle);
        var ins = bundle.Program.Tensors.Where(x => x.Role == "input").ToList();
        for (int i = 0; i < inputs.Length; i++)
        {
            session.Write(ins[i].Name, Bits(inputs[i].Values, type));
        }

        var run = session.Run(null).Total;   // throws on a hazard, deadlock or out-of-bounds access
        var y = Values(session.Read(bundle.Program.Tensors.Single(x => x.Role == "output").Name), type);
        long inputBytes = inputs.Sum(x => 2L * x.Values.Length);
        Assert.True(run.DramRead >= inputBytes, $"read {run.DramRead} bytes, inputs have {inputBytes}");
        Assert.Equal(2L * y.Length, run.DramWritten);
        output.WriteLine($"{target.Name} {op}: {run.Cycles} cycles, busy load/matrix/vector/store {string.Join('/', run.Busy)}, {rb} rows per block");
        return (y, run, rb);
    }

    private static void Compare(double[] got, double[] want, string type, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            double tol = (2 * Ulp(want[i], type)) + 1e-5;
            Assert.True(Math.Abs(got[i] - want[i]) <= tol, $"{what}: element {i} = {got[i]}, reference {want[i]}, tolerance {tol}");
        }
    }

    /// <summary>More than one block, and the queues overlapped: the run is shorter than the sum of busy times.</summary>
    private static void AssertOverlap(SimResult r) =>
        Assert.True(r.Cycles < r.Busy.Sum(), $"{r.Cycles} cycles is not less than the busy sum {r.Busy.Sum()}: no overlap");

    [Theory]
    [InlineData("add", "full", 300, 896, "f16")]
    [InlineData("sub", "row", 301, 100, "f16")]
    [InlineData("mul", "column", 7, 130, "f16")]
    [InlineData("max", "scalar", 5, 64, "f16")]
    [InlineData("min", "full", 33, 65, "bf16")]
    [InlineData("add", "row", 3, 1, "f16")]
    [InlineData("sub", "column", 129, 3, "bf16")]
    [InlineData("mul", "first-row", 40, 24, "f16")]   // the broadcast operand first: the op commutes
    public void Binary(string op, string kind, int rows, int cols, string type)
    {
        var a = Random(rows * cols, 1, -4, 4, type);
        long[] bShape = kind switch { "full" => [rows, cols], "row" or "first-row" => [cols], "column" => [rows, 1], _ => [1] };
        var b = Random(bShape.Aggregate(1L, (p, q) => p * q), 2, -4, 4, type);
        var ins = kind == "first-row" ? new[] { (bShape, b), (new long[] { rows, cols }, a) } : [(new long[] { rows, cols }, a), (bShape, b)];
        var (y, res, _) = Run(Config("e1"), op, type, ins, [rows, cols]);
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double p = a[(r * cols) + c], q = b[kind switch { "full" => (r * cols) + c, "row" or "first-row" => c, "column" => r, _ => 0 }];
                want[(r * cols) + c] = op switch { "add" => p + q, "sub" => p - q, "mul" => p * q, "max" => Math.Max(p, q), _ => Math.Min(p, q) };
            }
        }

        // The reference rounds once to the element type, as the dispatch does (fp32 add/mul of two f16 values is exact
        // or within half an fp32 ulp).
        Compare(y, want.Select(v => Round(v, type)).ToArray(), type, $"{op} {kind}");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    /// <summary>A row operand over many rows: its fp32 row is kept 8 times over (TileLowering.RowReplicas), so the vector
    /// unit adds 8 rows per instruction instead of one per row (each paying the vector startup). 41 rows in one block:
    /// the row's conversion and 3 doubling copies, a's conversion, ⌈41/8⌉ = 6 adds (the last for the one row left),
    /// the result's conversion.</summary>
    [Fact]
    public void ARowOperandCoversEightRowsPerInstruction()
    {
        const int rows = 41, cols = 24;
        var a = Random(rows * cols, 3, -4, 4, "f16");
        var b = Random(cols, 4, -4, 4, "f16");
        var (y, res, rb) = Run(Config("e1"), "add", "f16", [([rows, cols], a), ([cols], b)], [rows, cols]);
        Compare(y, [.. Enumerable.Range(0, rows * cols).Select(i => Round(a[i] + b[i % cols], "f16"))], "f16", "add row");
        Assert.Equal(rows, rb);
        Assert.Equal(1 + 3 + 1 + 6 + 1, res.Instructions[(int)Tessera.Npu.Isa.Queue.Vector]);
    }

    private static double Gelu(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));

    [Theory]
    [InlineData("silu", 37, 100, "f16")]
    [InlineData("silu", 300, 896, "f16")]
    [InlineData("gelu", 37, 100, "f16")]
    [InlineData("gelu", 20, 70, "bf16")]
    [InlineData("exp", 37, 100, "f16")]
    [InlineData("neg", 37, 100, "f16")]
    [InlineData("sigmoid", 37, 100, "f16")]
    [InlineData("tanh", 37, 100, "f16")]
    [InlineData("relu", 11, 1, "f16")]
    public void Unary(string op, int rows, int cols, string type)
    {
        var a = Random(rows * cols, 3, -4, 4, type);
        var (y, res, _) = Run(Config("e1"), op, type, [([rows, cols], a)], [rows, cols]);
        var want = a.Select(x => op switch
        {
            "silu" => x / (1 + Math.Exp(-x)),
            "gelu" => Gelu(x),
            "exp" => Math.Exp(x),
            "neg" => -x,
            "sigmoid" => 1 / (1 + Math.Exp(-x)),
            "tanh" => Math.Tanh(x),
            _ => Math.Max(x, 0),
        }).ToArray();
        Compare(y, want, type, op);
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    private static double[] SoftmaxRef(double[] s, int rows, int cols)
    {
        var want = new double[s.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = s.Skip(r * cols).Take(cols).ToArray();
            double m = row.Max(), sum = row.Sum(v => Math.Exp(v - m));
            for (int c = 0; c < cols; c++)
            {
                want[(r * cols) + c] = Math.Exp(row[c] - m) / sum;
            }
        }

        return want;
    }

    [Theory]
    [InlineData(300, 896, "f16", "e1")]
    [InlineData(5, 1, "f16", "e1")]
    [InlineData(17, 33, "bf16", "e1")]
    [InlineData(3, 70000, "f16", "e1")]           // a row longer than one vector instruction's n (u16) and one DMA dimension
    [InlineData(1001, 300, "f16", "edge-large")]  // rows not a multiple of the block
    public void Softmax(int rows, int cols, string type, string config)
    {
        var a = Random(rows * cols, 4, -8, 8, type);
        var (y, res, _) = Run(Config(config), "softmax", type, [([rows, cols], a)], [rows, cols], "axis = -1");
        Compare(y, SoftmaxRef(a, rows, cols), type, "softmax");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    [Theory]
    [InlineData(300, 896, "f16")]
    [InlineData(9, 100, "bf16")]
    [InlineData(1, 1, "f16")]
    public void RmsNorm(int rows, int cols, string type)
    {
        var x = Random(rows * cols, 5, -3, 3, type);
        var w = Random(cols, 6, 0.5, 1.5, type);
        const double eps = 1e-5;
        var (y, res, _) = Run(Config("e1"), "rms_norm", type, [([rows, cols], x), ([cols], w)], [rows, cols], "epsilon = 1.0e-5 : f32");
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double ms = Enumerable.Range(0, cols).Sum(c => x[(r * cols) + c] * x[(r * cols) + c]);
            double inv = 1 / Math.Sqrt((ms / cols) + eps);
            for (int c = 0; c < cols; c++)
            {
                want[(r * cols) + c] = x[(r * cols) + c] * inv * w[c];
            }
        }

        Compare(y, want, type, "rms-norm");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    [Theory]
    [InlineData(301, 896, true, "f16")]
    [InlineData(10, 64, false, "f16")]
    [InlineData(13, 200, true, "bf16")]
    public void LayerNorm(int rows, int cols, bool withBias, string type)
    {
        var x = Random(rows * cols, 7, -3, 5, type);
        var w = Random(cols, 8, 0.5, 1.5, type);
        var bias = Random(cols, 9, -1, 1, type);
        const double eps = 1e-5;
        (long[], double[])[] ins = withBias ? [([rows, cols], x), ([cols], w), ([cols], bias)] : [([rows, cols], x), ([cols], w)];
        var (y, res, _) = Run(Config("e1"), "layer_norm", type, ins, [rows, cols], "axis = -1, epsilon = 1.0e-5 : f32");
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Skip(r * cols).Take(cols).ToArray();
            double mean = row.Average(), var = row.Sum(v => (v - mean) * (v - mean)) / cols, inv = 1 / Math.Sqrt(var + eps);
            for (int c = 0; c < cols; c++)
            {
                want[(r * cols) + c] = ((row[c] - mean) * inv * w[c]) + (withBias ? bias[c] : 0);
            }
        }

        Compare(y, want, type, "layer-norm");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    /// <summary>Rotary embedding: token-major [1, S, H, D] with [1, S, 1, D] tables, heads-major [1, H, S, D] with [S, D]
    /// tables, and interleaved (pairwise) heads-major; one dispatch whose DMA repeats the tables over the heads.</summary>
    [Theory]
    [InlineData("token", 300, 7, 128, "f16", "e1")]
    [InlineData("token", 5, 3, 10, "f16", "e1")]
    [InlineData("token", 40, 2, 64, "bf16", "e1")]
    [InlineData("token", 3, 40000, 2, "f16", "edge-large")]   // 40000 heads of 2: a block row wider than the vector's 65535
    [InlineData("heads", 37, 4, 64, "f16", "e1")]
    [InlineData("pairs", 21, 3, 32, "f16", "e1")]
    [InlineData("pairs", 15, 4, 64, "bf16", "e1")]
    public void Rope(string layout, int rows, int heads, int headDim, string type, string config)
    {
        int half = headDim / 2;
        bool pairs = layout == "pairs", tokenMajor = layout == "token";
        var x = Random((long)rows * heads * headDim, 10, -3, 3, type);
        var angle = Enumerable.Range(0, rows * headDim).Select(i => (i / headDim) * Math.Pow(10000, -2.0 * (i % headDim / (pairs ? 2 : 1) % half) / headDim)).ToArray();
        var cos = angle.Select(v => Round(Math.Cos(v), type)).ToArray();
        var sin = angle.Select(v => Round(Math.Sin(v), type)).ToArray();
        long[] xs = tokenMajor ? [1, rows, heads, headDim] : [1, heads, rows, headDim], ts = tokenMajor ? [1, rows, 1, headDim] : [rows, headDim];
        var (y, res, _) = Run(Config(config), "rope", type, [(xs, x), (ts, cos), (ts, sin)], xs, $"interleaved = {(pairs ? 1 : 0)}");
        var want = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                int b = (tokenMajor ? (r * heads) + h : (h * rows) + r) * headDim, t = r * headDim;
                for (int j = 0; j < headDim; j++)
                {
                    // rotate_half pairs j with j ± D/2; pairwise rope pairs 2i with 2i + 1.
                    double rot = pairs ? (j % 2 == 0 ? -x[b + j + 1] : x[b + j - 1]) : j < half ? -x[b + j + half] : x[b + j - half];
                    want[b + j] = (x[b + j] * cos[t + j]) + (rot * sin[t + j]);
                }
            }
        }

        Compare(y, want, type, $"{layout} rope");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    [Fact]
    public void RopeWithAnOddHeadSizeStaysOnTheHostAndSaysWhy()
    {
        string x = "tensor<1x4x2x7xf16>", t = "tensor<4x7xf16>";
        var (ctx, module) = PassTestUtil.Parse($"func.func @f(%x: {x}, %c: {t}, %s: {t}) -> {x} {{\n  %y = graph.rope(%x, %c, %s) {{interleaved = 0}} : ({x}, {t}, {t}) -> {x}\n  func.return(%y) : {x}\n}}\n");
        var diags = new DiagnosticBag();
        Assert.True(PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags)!.Run(module, diags).Succeeded);
        var rope = module.Walk().Single(o => o.Name == "graph.rope");
        Assert.Equal("host", (rope.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value);
        Assert.Contains("even D", (rope.GetAttr(NpuPlacement.ReasonAttr) as StringAttr)?.Value);
    }

    [Fact]
    public void BlockRowsFollowTheTarget()
    {
        var e1 = Config("e1");
        var large = Config("edge-large");
        RowKernel Silu(long rows) => new()
        {
            Rows = rows, Cols = 896, Inputs = [(null!, RowInput.Stream)], Compute = _ => { },
        };

        // Many rows: the block is bounded by SRAM, which edge-large has 12× more of.
        long small = Silu(100_000).BlockRows(e1), big = Silu(100_000).BlockRows(large);
        Assert.True(big > 8 * small, $"e1 {small} rows, edge-large {big}");
        // Per element: 2 copies × 2 bytes in, 2 × 2 out, two fp32 scratch rows → 16 bytes.
        Assert.InRange(small, (2_097_152 - 4096) / (896 * 16), 2_097_152 / (896 * 16));
        var twoInputs = new RowKernel { Rows = 100_000, Cols = 896, Inputs = [(null!, RowInput.Stream), (null!, RowInput.Stream)], Compute = _ => { } };
        Assert.True(twoInputs.BlockRows(e1) < small);
        output.WriteLine($"block rows for 896 columns: e1 {small}, edge-large {big}");

        // The dispatch uses that size: its DMA moves each block once, so the loads and stores are one per block, and the
        // run is no shorter than the blocks' transfers in turn.
        const int rows = 600, cols = 896;
        var a = Random(rows * cols, 13, -4, 4, "f16");
        foreach (var t in new[] { e1, large })
        {
            var (y, res, rb) = Run(t, "silu", "f16", [([rows, cols], a)], [rows, cols]);
            Assert.Equal(Silu(rows).BlockRows(t), rb);
            Compare(y, a.Select(x => x / (1 + Math.Exp(-x))).ToArray(), "f16", t.Name);
            long blocks = (rows + rb - 1) / rb;
            Assert.True(res.Cycles >= blocks * t.DmaLatencyCycles / 2, $"{res.Cycles} cycles for {blocks} blocks");
        }
    }

    [Fact]
    public void RowsTooLongForSramAreDiagnosed()
    {
        // 200000 fp32 work + scratch + 4 raw copies per element is far more than e1's 2 MiB for one row.
        string t = "tensor<4x200000xf16>";
        var (ctx, module) = PassTestUtil.Parse($"func.func @f(%a: {t}) -> {t} {{\n  %y = graph.softmax(%a) {{axis = -1}} : ({t}) -> {t}\n  func.return(%y) : {t}\n}}\n");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition,npu-vector-to-tile{config=e1}))", diags)!;
        Assert.False(pm.Run(module, diags).Succeeded);
        var d = diags.Items.Single(x => x.Code == "TSR0841");
        Assert.Contains("bytes of SRAM", d.Message);
    }
}
