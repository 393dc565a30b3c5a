using static Tessera.Tests.Npu.NpuTestUtil;
using Tessera.Dialects.Graph;
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
/// A single 2-D f16/bf16 graph.mat_mul goes through npu-tile, npu-matmul-to-tile (a tile.dispatch) and npu-lower to a
/// bundle, runs in the simulator (which stops on any hazard, so finishing means zero hazards) and matches the reference
/// evaluator. Tolerance, per element: the NPU accumulates in fp32 in order and rounds once to f16/bf16; the evaluator
/// computes the exact-ish (double) sum and rounds once. Each rounding is at most half an ulp of the output type, and fp32
/// accumulation of K products adds at most K·2^-24·Σ|a·b| (the standard γ_K bound); so
/// |npu − ref| ≤ ulp(max(|npu|, |ref|)) + 2·K·2^-24·Σ_k |a_ik·b_kj|, the factor 2 as slack for the bound's higher-order terms.
/// </summary>
public class MatmulLoweringTests(ITestOutputHelper output)
{
    private static string MatmulTir(int m, int n, int k, string t) =>
        $"func.func @mm(%a: tensor<{m}x{k}x{t}>, %b: tensor<{k}x{n}x{t}>) -> tensor<{m}x{n}x{t}> {{\n" +
        $"  %c = graph.mat_mul(%a, %b) : (tensor<{m}x{k}x{t}>, tensor<{k}x{n}x{t}>) -> tensor<{m}x{n}x{t}>\n" +
        $"  func.return(%c) : tensor<{m}x{n}x{t}>\n}}\n";

    private static double ReadElem(byte[] b, int i, string t)
    {
        ushort h = (ushort)(b[2 * i] | (b[(2 * i) + 1] << 8));
        return t == "f16" ? Numerics.F16ToF32(h) : Numerics.Bf16ToF32(h);
    }

    /// <summary>Compiles, simulates and compares; returns the simulated cycles and the roofline floor.</summary>
    private (long Cycles, double Floor, MatmulTiles Tiles) CompileAndRun(int m, int n, int k, string config, string t = "f16", int seed = 1,
        (int M, int N, int K, bool StationaryA)? forceTiles = null, bool constantB = false)
    {
        var rng = new Random(seed);
        double[] A = Enumerable.Range(0, m * k).Select(_ => Round((rng.NextDouble() * 2) - 1, t)).ToArray();
        double[] B = Enumerable.Range(0, k * n).Select(_ => Round((rng.NextDouble() * 2) - 1, t)).ToArray();
        var text = MatmulTir(m, n, k, t);
        if (constantB)
        {
            // B as an arith.constant weight: the bundle carries its bytes and has one input.
            var dense = string.Join(", ", Enumerable.Range(0, k).Select(r =>
                "[" + string.Join(", ", B.Skip(r * n).Take(n).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]"));
            text = text.Replace($", %b: tensor<{k}x{n}x{t}>)", ")", StringComparison.Ordinal)
                .Replace("  %c = ", $"  %b = arith.constant dense<[{dense}]> : tensor<{k}x{n}x{t}>\n  %c = ", StringComparison.Ordinal);
        }

        var (ctx, module) = PassTestUtil.Parse(text);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), $"builtin.module(func.func(npu-partition,npu-tile{{config={config}}}))", diags);
        Assert.True(pm is not null, diags.Render());
        Assert.True(pm!.Run(module, diags).Succeeded, diags.Render());
        var target = Config(config);
        var mm = module.Walk().First(o => o.Name == "graph.mat_mul");
        // This class tests the tiled matmul; npu-tile may pick the GEMV for M = 1 (GemvTests covers that kernel).
        mm.RemoveAttr(NpuMatmulLowering.KernelAttr);
        if (forceTiles is { } f)
        {
            mm.SetAttr(NpuMatmulLowering.TileMAttr, IntegerAttr.I64(f.M));
            mm.SetAttr(NpuMatmulLowering.TileNAttr, IntegerAttr.I64(f.N));
            mm.SetAttr(NpuMatmulLowering.TileKAttr, IntegerAttr.I64(f.K));
            mm.SetAttr(NpuMatmulLowering.StationaryAttr, new StringAttr(f.StationaryA ? "a" : "b"));
        }

        var tiles = NpuMatmulLowering.Tiles(mm)!;
        var et = t == "f16" ? FloatType.F16 : FloatType.BF16;
        var args = constantB ? new[] { NDArray.Create(et, [m, k], A) } : new[] { NDArray.Create(et, [m, k], A), NDArray.Create(et, [k, n], B) };
        var reference = GraphEvaluator.Run(PassTestUtil.Func(module, "mm"), args)[0].AsDoubles();
        pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-matmul-to-tile))", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        Assert.Equal(1, module.Walk().Count(o => o.Name == "tile.dispatch"));
        var bundle = NpuIR.Lower(ctx, module, "mm", config).Bundle;
        Assert.Equal(["npu"], bundle.Steps.Select(s => s.Kind));

        var session = new BundleSession(bundle);   // loads the DRAM image's initial contents (weights), as tessera sim does
        var inputs = bundle.Program.Tensors.Where(x => x.Role == "input").ToList();
        session.Write(inputs[0].Name, NpuMatmulLowering.Bits(NDArray.Create(et, [m, k], A), t));
        if (constantB)
        {
            var w = Assert.Single(bundle.Program.Tensors, x => x.Role == "weight");
            Assert.Equal(NpuMatmulLowering.Bits(NDArray.Create(et, [k, n], B), t), session.Read(w.Name));
        }
        else
        {
            session.Write(inputs[1].Name, NpuMatmulLowering.Bits(NDArray.Create(et, [k, n], B), t));
        }

        var result = session.Run(null).Total;   // a hazard, deadlock or out-of-bounds access throws
        var got = session.Read(Assert.Single(bundle.Program.Tensors, x => x.Role == "output").Name);
        double worst = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double absSum = 0;
                for (int q = 0; q < k; q++)
                {
                    absSum += Math.Abs(A[(i * k) + q] * B[(q * n) + j]);
                }

                double r = reference[(i * n) + j], g = ReadElem(got, (i * n) + j, t);
                double tol = Ulp(Math.Max(Math.Abs(r), Math.Abs(g)), t) + (2.0 * k * Math.Pow(2, -24) * absSum);
                Assert.True(Math.Abs(g - r) <= tol, $"C[{i},{j}] = {g}, reference {r}, tolerance {tol}");
                worst = Math.Max(worst, Math.Abs(g - r) / tol);
            }
        }

        // The roofline floor from the target file's fields: MAC rate rows·cols/floatRateDivisor per cycle, DRAM bytes at
        // bandwidth/clock bytes per cycle, each operand read once and the result written once.
        double macRate = (double)target.MatrixRows * target.MatrixCols / target.FloatRateDivisor;
        double bytes = 2.0 * ((double)m * k + (double)k * n + (double)m * n);
        double floor = Math.Max((double)m * n * k / macRate, bytes / (double)(target.DmaBandwidthGBps / target.ClockGHz));
        output.WriteLine($"{m}x{n}x{k} {t} on {config}: tiles {tiles.Mt}x{tiles.Nt}x{tiles.Kt} {(tiles.StationaryA ? "A" : "B")}-stationary, {result.Cycles} cycles (estimate {tiles.EstimatedCycles}), floor {floor:0}, cycles/floor {result.Cycles / floor:0.000}, worst error/tolerance {worst:0.000}");
        Assert.Equal((long)m * n * k, result.Macs);
        Assert.True(result.Cycles >= floor, $"{result.Cycles} cycles is below the floor {floor}");
        return (result.Cycles, floor, tiles);
    }

    [Theory]
    [InlineData(37, 70, 19, "e1")]
    [InlineData(37, 70, 19, "edge-large")]
    [InlineData(1, 1, 1, "e1")]
    [InlineData(64, 128, 96, "e1")]
    [InlineData(130, 33, 65, "e1")]
    [InlineData(200, 300, 260, "edge-large")]
    public void SmallAndRaggedShapesMatchTheEvaluator(int m, int n, int k, string config) => CompileAndRun(m, n, k, config);

    /// <summary>Tiles set by hand exercise the kernel's edge paths: a column tile wider than the array and not a multiple of it
    /// (full blocks plus a ragged block, two weight loads), a reduction tile that is not a multiple of the array height
    /// (a short last mm.ldw chunk), ragged row tiles, and A and B buffers that alternate and stay resident.</summary>
    [Theory]
    [InlineData(37, 70, 19, "e1", 16, 70, 19, false)]
    [InlineData(50, 100, 130, "e1", 24, 70, 50, false)]
    [InlineData(33, 65, 100, "e1", 33, 65, 40, false)]
    [InlineData(70, 300, 200, "edge-large", 32, 200, 150, false)]
    [InlineData(37, 70, 19, "e1", 37, 70, 19, true)]
    [InlineData(50, 100, 130, "e1", 40, 48, 50, true)]
    [InlineData(70, 300, 200, "edge-large", 70, 112, 150, true)]
    [InlineData(130, 90, 70, "e1", 70, 64, 33, true)]
    public void ExplicitTilesMatchTheEvaluator(int m, int n, int k, string config, int mt, int nt, int kt, bool stationaryA) =>
        CompileAndRun(m, n, k, config, forceTiles: (mt, nt, kt, stationaryA));

    [Fact]
    public void ConstantWeightsGoIntoTheDramImage() => CompileAndRun(40, 50, 60, "e1", constantB: true);

    [Fact]
    public void Bf16MatchesTheEvaluator() => CompileAndRun(45, 77, 90, "e1", "bf16");

    [Fact]
    public void AMatmulBiggerThanSramIsTiled()
    {
        // B alone is 1000 × 1100 × 2 bytes = 2.2 MB, more than e1's 2 MiB SRAM.
        var e1 = Config("e1");
        Assert.True(1000L * 1100 * 2 > e1.SramBytes);
        var (_, _, tiles) = CompileAndRun(96, 1100, 1000, "e1", seed: 7);
        Assert.True(tiles.Nt < 1100 || tiles.Kt < 1000);
    }

    [Fact]
    public void TilesDependOnTheTargetDescription()
    {
        var e1 = TileCostModel.Choose(Config("e1"), 128, 4864, 896);
        var large = TileCostModel.Choose(Config("edge-large"), 128, 4864, 896);
        output.WriteLine($"128x4864x896: e1 {e1}, edge-large {large}");
        Assert.NotEqual((e1.Mt, e1.Nt, e1.Kt), (large.Mt, large.Nt, large.Kt));
        foreach (var (t, tiles) in new[] { (Config("e1"), e1), (Config("edge-large"), large) })
        {
            Assert.True(TileCostModel.SramFootprint(tiles.Mt, tiles.Nt, tiles.Kt, 2) <= t.SramBytes);
            int stationaryCols = tiles.StationaryA ? tiles.Mt : tiles.Nt, streamedRows = tiles.StationaryA ? tiles.Nt : tiles.Mt;
            Assert.True(TileCostModel.Fits(t, streamedRows, stationaryCols, tiles.Kt, 2));
            Assert.True(tiles.EstimatedCycles >= TileCostModel.FloorCycles(t, 128, 4864, 896));
        }
    }

    [Fact]
    public void AnOpWithoutAKernelFallsBackToTheHostWithAReason()
    {
        var (ctx, module) = PassTestUtil.Parse(
            "func.func @f(%a: tensor<2x4x4xf32>, %b: tensor<4x4xf32>, %x: tensor<4x4xf16>) -> (tensor<2x4x4xf32>, tensor<4x4xf16>) {\n" +
            "  %c = graph.mat_mul(%a, %b) : (tensor<2x4x4xf32>, tensor<4x4xf32>) -> tensor<2x4x4xf32>\n" +
            "  %d = graph.abs(%x) : (tensor<4x4xf16>) -> tensor<4x4xf16>\n" +
            "  func.return(%c, %d) : (tensor<2x4x4xf32>, tensor<4x4xf16>) -> ()\n}\n");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition,npu-tile,npu-matmul-to-tile))", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        var ops = module.Walk().Where(o => o.Name.StartsWith("graph.", StringComparison.Ordinal)).ToList();
        Assert.Equal("host", (ops[0].GetAttr("npu.place") as StringAttr)?.Value);   // f32: demote-f32 has not run
        Assert.Contains("only f16/bf16 matmuls", (ops[0].GetAttr("npu.reason") as StringAttr)?.Value);
        Assert.Equal("host", (ops[1].GetAttr("npu.place") as StringAttr)?.Value);
        Assert.Contains("no NPU kernel for graph.abs", (ops[1].GetAttr("npu.reason") as StringAttr)?.Value);
        var bundle = NpuIR.Lower(ctx, module, "f", "e1").Bundle;
        Assert.Equal(["host", "host"], bundle.Steps.Select(s => s.Kind));
        Assert.NotNull(bundle.HostModule);
    }

    [Fact]
    public void CliCompilesToABundleThatSimulates()
    {
        var dir = Path.Combine(Path.GetTempPath(), "npu-mm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var tir = Path.Combine(dir, "mm.tir");
        File.WriteAllText(tir, MatmulTir(20, 40, 30, "f16"));
        var (code, text) = NpuTestUtil.RunCli(["compile", tir, "--target", "npu", "--target-config", "edge-large", "-o", Path.Combine(dir, "b")]);
        Assert.True(code == 0, text);
        Assert.Contains("1 NPU kernels, 0 host ops", text);
        (code, text) = NpuTestUtil.RunCli(["sim", Path.Combine(dir, "b")]);
        Assert.True(code == 0, text);
        Assert.Contains("cycles", text);

        File.WriteAllText(tir, "func.func @f(%a: tensor<4x4xf16>) -> tensor<4x4xf16> {\n  %c = graph.abs(%a) : (tensor<4x4xf16>) -> tensor<4x4xf16>\n  func.return(%c) : tensor<4x4xf16>\n}\n");
        (code, text) = NpuTestUtil.RunCli(["compile", tir, "--target", "npu", "-o", Path.Combine(dir, "c")]);
        Assert.True(code == 0, text);
        Assert.Contains("host: graph.abs x1: no NPU kernel for graph.abs yet", text);

        (code, text) = NpuTestUtil.RunCli(["compile", tir, "--target", "npu", "-o", tir]);
        Assert.Equal(1, code);
        Assert.Contains("is a file", text);
    }
}
