using static Tessera.Tests.Npu.NpuTestUtil;
using System.Globalization;
using Tessera.IR.Passes;
using Tessera.Npu.Lowering;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using Tessera.Passes;
using Tessera.Passes.Npu;
using Tessera.Tests.Passes;
using Xunit.Abstractions;

namespace Tessera.Tests.Npu;

/// <summary>
/// The GEMV (targets/Npu/Lowering/GemvKernel.cs plans it, passes/Npu/GemvDispatch.cs writes it as a tile.dispatch) for
/// M = 1 matmuls, through <c>npu-partition,npu-tile,npu-matmul-to-tile</c> (with npu-tile's blocks or hand-made ones) and
/// <c>npu-lower</c>, run in the simulator (which stops on any hazard) and compared with a double-precision reference
/// computed here.
/// <para>Tolerance per output: |npu − ref| ≤ ulp_T(max(|npu|, |ref|)) + 2·K·2⁻²⁴·Σ_k |x_k·w_kj|. Both units form each
/// product exactly in fp32 (f16/bf16 operands) and add K of them in fp32 (the vector unit lane-striped, the matrix unit
/// in order): at most K·2⁻²⁴·Σ|x·w| (the γ_K bound, doubled as slack for its higher-order terms); the result is rounded
/// once to T (half an ulp, a whole one allowed).</para>
/// </summary>
public class GemvTests(ITestOutputHelper output)
{
    private static double[] Random(int count, int seed, string t)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Round((rng.NextDouble() * 2) - 1, t)).ToArray();
    }

    /// <summary>Checks y = x·W (W K×N row-major) within the class's tolerance, <paramref name="extra"/>[j] added to the
    /// reference and <paramref name="slack"/>[j] to the tolerance; returns the worst error ÷ tolerance.</summary>
    private static double Compare(double[] y, double[] x, double[] w, int k, int n, string t, double[]? extra = null, double[]? slack = null)
    {
        double worst = 0;
        for (int j = 0; j < n; j++)
        {
            double sum = 0, abs = 0;
            for (int q = 0; q < k; q++)
            {
                sum += x[q] * w[(q * n) + j];
                abs += Math.Abs(x[q] * w[(q * n) + j]);
            }

            double r = sum + (extra?[j] ?? 0);
            double tol = Ulp(Math.Max(Math.Abs(r), Math.Abs(y[j])), t) + (2.0 * k * Math.Pow(2, -24) * abs) + (slack?[j] ?? 0);
            Assert.True(Math.Abs(y[j] - r) <= tol, $"y[{j}] = {y[j]}, reference {r}, tolerance {tol}");
            worst = Math.Max(worst, Math.Abs(y[j] - r) / tol);
        }

        return worst;
    }

    private static string MatmulTir(int k, int n, string t) =>
        $"func.func @mm(%a: tensor<1x{k}x{t}>, %b: tensor<{k}x{n}x{t}>) -> tensor<1x{n}x{t}> {{\n" +
        $"  %c = graph.mat_mul(%a, %b) : (tensor<1x{k}x{t}>, tensor<{k}x{n}x{t}>) -> tensor<1x{n}x{t}>\n" +
        $"  func.return(%c) : tensor<1x{n}x{t}>\n}}\n";

    private static Operation RunPasses(Context ctx, Operation module, string pipeline)
    {
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), $"builtin.module(func.func({pipeline}))", diags);
        Assert.True(pm is not null && pm.Run(module, diags).Succeeded, diags.Render());
        return module;
    }

    /// <summary>The one GEMV dispatch npu-matmul-to-tile made of the module's matmul (which is gone).</summary>
    private static Operation GemvDispatchOf(Operation module)
    {
        Assert.DoesNotContain(module.Walk(), o => o.Name is "graph.mat_mul" or "graph.gemm");
        var dispatch = Assert.Single(module.Walk(), o => o.Name == "tile.dispatch");
        Assert.True(NpuMatmulLowering.IsGemv(dispatch), "the matmul's dispatch is not the GEMV's");
        return dispatch;
    }

    /// <summary>Lowers the module's function @mm on <paramref name="config"/>, runs it in the simulator (a hazard,
    /// deadlock or out-of-bounds access throws) with x and W, and returns y and the run's result.</summary>
    private static (double[] Y, SimResult Result) Simulate(Context ctx, Operation module, double[] x, double[] w, string t, string config)
    {
        var bundle = NpuIR.Lower(ctx, module, "mm", config).Bundle;
        Assert.Equal(["npu"], bundle.Steps.Select(s => s.Kind));
        var session = new BundleSession(bundle);
        var inputs = bundle.Program.Tensors.Where(d => d.Role == "input").ToList();
        session.Write(inputs[0].Name, Bits(x, t));
        session.Write(inputs[1].Name, Bits(w, t));
        var result = session.Run(null).Total;
        return (Values(session.Read(Assert.Single(bundle.Program.Tensors, d => d.Role == "output").Name), t), result);
    }

    /// <summary>y = x·W through the pipeline on e1; asserts npu-tile chose the GEMV; returns (cycles, roofline floor).</summary>
    private (long Cycles, double Floor) Pipeline(int k, int n, string t = "f16", int seed = 1, string config = "e1")
    {
        double[] x = Random(k, seed, t), w = Random(k * n, seed + 1, t);
        var (ctx, module) = PassTestUtil.Parse(MatmulTir(k, n, t));
        RunPasses(ctx, module, $"npu-partition,npu-tile{{config={config}}}");
        var mm = module.Walk().Single(o => o.Name == "graph.mat_mul");
        Assert.True(NpuMatmulLowering.IsGemv(mm), $"npu-tile did not pick the GEMV for 1x{k}x{n}");
        RunPasses(ctx, module, "npu-matmul-to-tile");
        GemvDispatchOf(module);
        var (y, result) = Simulate(ctx, module, x, w, t, config);
        double worst = Compare(y, x, w, k, n, t);
        double floor = TileCostModel.FloorCycles(Config(config), 1, n, k);
        var plan = GemvKernel.Plan(Config(config), n, k)!;
        output.WriteLine($"1x{k}x{n} {t} on {config}: {result.Cycles} cycles (estimate {plan.EstimatedCycles}), floor {floor:0}, floor/cycles {floor / result.Cycles:0.000}, " +
            $"blocks of {plan.Width}, {plan.MatrixColumns} of {n} columns on the matrix unit, worst error/tolerance {worst:0.000}");
        Assert.Equal(plan.EstimatedCycles, result.Cycles);   // the cost model is a timing model of this schedule
        return (result.Cycles, floor);
    }

    [Theory]
    [InlineData(70, 130, "f16")]
    [InlineData(130, 70, "bf16")]
    [InlineData(33, 1, "f16")]
    public void RaggedShapesMatchTheReference(int k, int n, string t) => Pipeline(k, n, t);

    /// <summary>edge-large: a 128×128 array, 256 lanes and 800 bytes per cycle of DMA give other blocks and shares.</summary>
    [Theory]
    [InlineData(896, 896)]
    [InlineData(300, 1000)]
    public void EdgeLargeMatchesTheReference(int k, int n) => Pipeline(k, n, config: "edge-large");

    /// <summary>Decode shapes of a Qwen2.5-0.5B layer: the attention projection and the MLP's up and down projections,
    /// each at least 0.6 of the memory-bound floor (issue 6; the tiled matmul reaches about 0.4).</summary>
    [Theory]
    [InlineData(896, 896)]
    [InlineData(896, 128)]
    [InlineData(896, 4864)]
    [InlineData(4864, 896)]
    public void DecodeShapesMatchTheReferenceNearTheFloor(int k, int n)
    {
        var (cycles, floor) = Pipeline(k, n);
        Assert.True(cycles >= floor, $"{cycles} cycles is below the floor {floor}");
        Assert.True(floor / cycles >= (n >= 896 ? 0.6 : 0.5), $"{cycles} cycles is {floor / cycles:0.000} of the floor {floor:0}");
    }

    /// <summary>The lm_head of the decode benchmark (vocab 8192) and of Qwen2.5-0.5B (151936, whose weights exceed e1's
    /// DRAM, so only planned here; `tessera compile --report roofline` on a 512 MiB copy of e1 simulates it at the same
    /// count): the estimate, which equals the simulator's count on every shape the other tests run, stays near the floor.</summary>
    [Theory]
    [InlineData(8192)]
    [InlineData(151936)]
    public void LmHeadPlansStayNearTheFloor(int n)
    {
        var e1 = Config("e1");
        var plan = GemvKernel.Plan(e1, n, 896)!;
        double floor = TileCostModel.FloorCycles(e1, 1, n, 896);
        output.WriteLine($"1x896x{n}: estimate {plan.EstimatedCycles}, floor {floor:0}, floor/estimate {floor / plan.EstimatedCycles:0.000}, " +
            $"{plan.Blocks.Count} blocks of up to {plan.Width}, {plan.MatrixColumns} columns on the matrix unit");
        Assert.True(plan.EstimatedCycles >= floor && floor / plan.EstimatedCycles >= 0.9);
        Assert.Equal(n, plan.Blocks.Sum(b => b.Width));
    }

    /// <summary>Hand-made blocks with both units taking turns, tiles of 44 columns: on the matrix unit a full and a
    /// ragged array-wide group, a block narrower than the tiles inside W and a ragged last block at its edge; on the
    /// vector unit a ragged group of rows for the replicated x (44 = 5·8 + 4) and a narrow block inside W; K = 70 (a short
    /// last array-high chunk).</summary>
    [Theory]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void BothUnitsInTurnMatchTheReference(string t)
    {
        const int k = 70, n = 200;
        double[] x = Random(k, 3, t), w = Random(k * n, 4, t);
        var (ctx, module) = PassTestUtil.Parse(MatmulTir(k, n, t));
        RunPasses(ctx, module, "npu-partition,npu-tile{config=e1}");
        var mm = module.Walk().Single(o => o.Name == "graph.mat_mul");
        mm.SetAttr(NpuMatmulLowering.KernelAttr, new StringAttr(NpuMatmulLowering.Gemv));
        mm.SetAttr(GemvDispatch.BlocksAttr, new StringAttr("v44 m44 v24 m20 v44 m24"));
        RunPasses(ctx, module, "npu-matmul-to-tile");
        var loads = GemvDispatchOf(module).Walk().Where(o => o.Name == "tile.load").ToList();
        Assert.Equal(2, loads.Count(o => o.GetAttr("sizes") is not null));   // the two narrow blocks inside W
        var (y, result) = Simulate(ctx, module, x, w, t, "e1");
        output.WriteLine($"{t}: {result.Cycles} cycles, busy load/matrix/vector/store {string.Join('/', result.Busy)}");
        Compare(y, x, w, k, n, t);
    }

    /// <summary>Blocks that do not cover the outputs are a coded error of npu-matmul-to-tile, not a crash.</summary>
    [Theory]
    [InlineData("v64 m64", "covers 128 of the 200 output columns")]
    [InlineData("v100 x100", "'x100' is not a block of columns")]
    [InlineData("v100 m101", "'m101' is not a block of columns inside the 200 outputs")]
    public void BadBlocksAreADiagnostic(string blocks, string message)
    {
        var (ctx, module) = PassTestUtil.Parse(MatmulTir(70, 200, "f16"));
        RunPasses(ctx, module, "npu-partition,npu-tile{config=e1}");
        var mm = module.Walk().Single(o => o.Name == "graph.mat_mul");
        mm.SetAttr(NpuMatmulLowering.KernelAttr, new StringAttr(NpuMatmulLowering.Gemv));
        mm.SetAttr(GemvDispatch.BlocksAttr, new StringAttr(blocks));
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-matmul-to-tile))", diags)!;
        Assert.False(pm.Run(module, diags).Succeeded);
        Assert.Contains(diags.Items, d => d.Code == Tessera.Npu.NpuCodes.LowerUnsupported && d.Message.Contains(message, StringComparison.Ordinal));
    }

    /// <summary>A gemm with a transposed constant weight and a bias: npu-matmul-to-tile turns it into a GEMV matmul on the
    /// weight transposed at compile time plus a row add. The product is rounded to f16 before the add: one more ulp. With
    /// <paramref name="cast"/> the weight reaches the gemm through a same-type cast, as GGUF f16 weights do after demote-f32.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GemmWithTransposedWeightAndBiasMatchesTheReference(bool cast)
    {
        const int k = 70, n = 40;
        double[] x = Random(k, 5, "f16"), wt = Random(n * k, 6, "f16"), bias = Random(n, 7, "f16");
        var w = new double[k * n];
        for (int j = 0; j < n; j++)
        {
            for (int q = 0; q < k; q++)
            {
                w[(q * n) + j] = wt[(j * k) + q];
            }
        }

        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var dense = string.Join(", ", Enumerable.Range(0, n).Select(j => "[" + string.Join(", ", wt.Skip(j * k).Take(k).Select(F)) + "]"));
        var (ctx, module) = PassTestUtil.Parse(
            $"func.func @mm(%x: tensor<1x{k}xf16>, %bias: tensor<{n}xf16>) -> tensor<1x{n}xf16> {{\n" +
            $"  {(cast ? "%w0" : "%w")} = arith.constant dense<[{dense}]> : tensor<{n}x{k}xf16>\n" +
            (cast ? $"  %w = graph.cast(%w0) {{to = 10}} : (tensor<{n}x{k}xf16>) -> tensor<{n}x{k}xf16>\n" : "") +
            $"  %y = graph.gemm(%x, %w, %bias) {{transB = 1}} : (tensor<1x{k}xf16>, tensor<{n}x{k}xf16>, tensor<{n}xf16>) -> tensor<1x{n}xf16>\n" +
            $"  func.return(%y) : tensor<1x{n}xf16>\n}}\n");
        RunPasses(ctx, module, "npu-partition,npu-tile{config=e1},npu-matmul-to-tile");
        GemvDispatchOf(module);
        Assert.DoesNotContain(module.Walk(), o => o.Name == "graph.cast");   // the untransposed weight and its cast are gone
        Assert.Contains(module.Walk(), o => o.Name == "graph.add");
        var bundle = NpuIR.Lower(ctx, module, "mm", "e1").Bundle;
        var session = new BundleSession(bundle);
        var inputs = bundle.Program.Tensors.Where(d => d.Role == "input").ToList();
        session.Write(inputs[0].Name, Bits(x, "f16"));
        session.Write(inputs[1].Name, Bits(bias, "f16"));
        session.Run(null);
        var y = Values(session.Read(Assert.Single(bundle.Program.Tensors, d => d.Role == "output").Name), "f16");
        var slack = Enumerable.Range(0, n).Select(j => Ulp(Math.Abs(y[j] - bias[j]) + 1, "f16")).ToArray();
        Compare(y, x, w, k, n, "f16", bias, slack);
    }

    /// <summary>The choice comes from the target description: on e1 the GEMV beats the matrix unit for M = 1 and is not
    /// offered for M = 128; on e1 with a one-lane vector unit (a config file) the tiled matmul wins M = 1 too.</summary>
    [Fact]
    public void TheCostModelPicksTheGemvOnlyWhereItIsCheaper()
    {
        var dir = Path.Combine(Path.GetTempPath(), "npu-gemv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var oneLane = Path.Combine(dir, "e1-one-lane.json");
        var e1Text = File.ReadAllText(Path.Combine(Repo.Root, "targets/Npu/configs/e1.json"));
        Assert.Contains("\"lanes\": 64", e1Text);
        File.WriteAllText(oneLane, e1Text.Replace("\"lanes\": 64", "\"lanes\": 1", StringComparison.Ordinal).Replace("\"name\": \"e1\"", "\"name\": \"e1-one-lane\"", StringComparison.Ordinal));
        foreach (var (m, config, gemv) in new[] { (1, "e1", true), (128, "e1", false), (1, oneLane, false) })
        {
            var (ctx, module) = PassTestUtil.Parse(MatmulTir(896, 896, "f16").Replace("tensor<1x", $"tensor<{m}x", StringComparison.Ordinal));
            RunPasses(ctx, module, $"npu-partition,npu-tile{{config={config}}}");
            Assert.Equal(gemv, module.Walk().Any(o => o.Name == "graph.mat_mul" && NpuMatmulLowering.IsGemv(o)));
            RunPasses(ctx, module, "npu-matmul-to-tile");
            Assert.Equal(gemv, NpuMatmulLowering.IsGemv(Assert.Single(module.Walk(), o => o.Name == "tile.dispatch")));
        }

        var e1 = Config("e1");
        var narrow = TargetLoader.LoadFile(oneLane);
        long gemvE1 = GemvKernel.Plan(e1, 896, 896)!.EstimatedCycles, tilesE1 = TileCostModel.Choose(e1, 1, 896, 896).EstimatedCycles;
        long gemvNarrow = GemvKernel.Plan(narrow, 896, 896)!.EstimatedCycles, tilesNarrow = TileCostModel.Choose(narrow, 1, 896, 896).EstimatedCycles;
        output.WriteLine($"1x896x896 estimates: e1 GEMV {gemvE1} vs tiles {tilesE1}; one lane GEMV {gemvNarrow} vs tiles {tilesNarrow}");
        Assert.True(gemvE1 < tilesE1 && gemvNarrow >= tilesNarrow);
        Directory.Delete(dir, true);
    }
}
