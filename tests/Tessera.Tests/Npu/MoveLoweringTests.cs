using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.IR.Passes;
using Tessera.Npu.Bundle;
using Tessera.Npu.Simulator;
using Tessera.Passes;
using Tessera.Tests.Passes;

namespace Tessera.Tests.Npu;

/// <summary>Data movement through <c>npu-move-to-tile</c> and the tile lowering: no slower than the direct DMA kernels
/// it replaced, exact where many tile shapes share the semaphores, and bad tile IR a coded diagnostic.</summary>
public class MoveLoweringTests
{
    private static NpuBundle Compile(string tir)
    {
        var (ctx, module) = PassTestUtil.Parse(tir);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        var bundle = NpuIR.Lower(ctx, module, "f", "e1").Bundle;
        Assert.All(bundle.Steps, s => Assert.Equal("npu", s.Kind));
        return bundle;
    }

    private static string Fn(string args, string result, string body) =>
        $"func.func @f({args}) -> {result} {{\n{body}  func.return(%y) : {result}\n}}\n";

    /// <summary>Simulated cycles on e1 (timing only: every instruction timed and hazard-checked) and the cycles the direct
    /// DmaKernels took for the same op before it went through the tile dialect.</summary>
    public static TheoryData<string, long> Cases => new()
    {
        { Fn("%x: tensor<1x128x14x64xf16>", "tensor<1x14x128x64xf16>", "  %y = graph.transpose(%x) {perm = [0, 2, 1, 3]} : (tensor<1x128x14x64xf16>) -> tensor<1x14x128x64xf16>\n"), 9360 },
        { Fn("%x: tensor<512x768xf16>", "tensor<768x512xf16>", "  %y = graph.transpose(%x) {perm = [1, 0]} : (tensor<512x768xf16>) -> tensor<768x512xf16>\n"), 31120 },
        { Fn("%x: tensor<2x3x4x5xf16>", "tensor<5x3x2x4xf16>", "  %y = graph.transpose(%x) {perm = [3, 1, 0, 2]} : (tensor<2x3x4x5xf16>) -> tensor<5x3x2x4xf16>\n"), 1206 },
        {
            Fn("%x: tensor<2x1000x900xf16>", "tensor<2x1000x700xf16>",
                "  %s = arith.constant dense<[100]> : tensor<1xi64>\n  %e = arith.constant dense<[800]> : tensor<1xi64>\n  %a = arith.constant dense<[2]> : tensor<1xi64>\n" +
                "  %y = graph.slice(%x, %s, %e, %a) : (tensor<2x1000x900xf16>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x1000x700xf16>\n"), 75944
        },
        {
            Fn("%x: tensor<1x2x16x64xf16>", "tensor<1x2x128x64xf16>",
                "  %p = arith.constant dense<[0, 0, 0, 0, 0, 0, 112, 0]> : tensor<8xi64>\n" +
                "  %y = graph.pad(%x, %p) {onnx_opset = 17} : (tensor<1x2x16x64xf16>, tensor<8xi64>) -> tensor<1x2x128x64xf16>\n"), 1120
        },
        { Fn("%w: tensor<8192x896xf16>, %i: tensor<1x128xi64>", "tensor<1x128x896xf16>", "  %y = graph.gather(%w, %i) {axis = 0} : (tensor<8192x896xf16>, tensor<1x128xi64>) -> tensor<1x128x896xf16>\n"), 9580 },
        { Fn("%w: tensor<512x64xf16>, %i: tensor<1x1xi64>", "tensor<1x1x64xf16>", "  %y = graph.gather(%w, %i) {axis = 0} : (tensor<512x64xf16>, tensor<1x1xi64>) -> tensor<1x1x64xf16>\n"), 607 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DataMovementIsNoSlowerThanTheDirectKernels(string tir, long before)
    {
        var cycles = new BundleSession(Compile(tir), timingOnly: true).Run(null).Total.Cycles;
        Assert.True(cycles <= before, $"{cycles} cycles, the direct kernel took {before}");
    }

    [Fact]
    public void AConcatOfManyWidthsSharesOneTileShape()
    {
        // 16 inputs of widths 1..16: more tile shapes than e1's 31 semaphores have pairs for, so every part moves runs of
        // the narrowest width through one buffer pair; the result must still be exact.
        var widths = Enumerable.Range(1, 16).ToArray();
        string T(int w) => $"tensor<3x{w}xf16>";
        int total = widths.Sum();
        string args = string.Join(", ", widths.Select(w => $"%a{w}: {T(w)}"));
        string tir = Fn(args, $"tensor<3x{total}xf16>",
            $"  %y = graph.concat({string.Join(", ", widths.Select(w => $"%a{w}"))}) {{axis = 1}} : ({string.Join(", ", widths.Select(T))}) -> tensor<3x{total}xf16>\n");
        var bundle = Compile(tir);
        var session = new BundleSession(bundle);
        var inputs = bundle.Program.Tensors.Where(t => t.Role == "input").ToList();
        var values = widths.Select(w => Enumerable.Range(0, 3 * w).Select(i => (double)(Half)((w * 100) + i)).ToArray()).ToList();
        for (int k = 0; k < widths.Length; k++)
        {
            session.Write(inputs[k].Name, Tessera.Dialects.Graph.Convert.ToAttr(NDArray.Create(FloatType.F16, [3, widths[k]], values[k])).Storage.Span);
        }

        session.Run(null);
        var got = Tessera.Dialects.Graph.Convert.FromAttr(new DenseElementsAttr(TensorType.Of(FloatType.F16, [3, total]),
            new ArrayStorage(session.Read(bundle.Program.Tensors.Single(t => t.Role == "output").Name)))).AsDoubles();
        var want = Enumerable.Range(0, 3).SelectMany(r => widths.SelectMany((w, k) => values[k].Skip(r * w).Take(w))).ToArray();
        Assert.Equal(want, got);
    }

    /// <summary>Results no op computes: the argument itself, a constant, and one value returned twice. Each gets a copy
    /// dispatch (op "copy") of its own, so the outputs are distinct buffers with the right bytes.</summary>
    [Fact]
    public void OutputsNoStepComputesAreCopiedByDispatches()
    {
        const string t = "tensor<70x3xf16>";
        string tir = $"func.func @f(%x: {t}) -> ({t}, {t}, {t}, {t}) {{\n"
            + $"  %c = arith.constant dense<2.5> : {t}\n"
            + $"  %y = graph.add(%x, %x) : ({t}, {t}) -> {t}\n"
            + $"  func.return(%x, %c, %y, %y) : ({t}, {t}, {t}, {t}) -> ()\n}}\n";
        var bundle = Compile(tir);
        Assert.Equal(["copy", "copy", "copy", "graph.add"], bundle.Steps.Select(st => st.Op).Order(StringComparer.Ordinal));
        var session = new BundleSession(bundle);
        var x = Enumerable.Range(0, 210).Select(i => (double)(Half)(i * 0.25)).ToArray();
        session.Write(bundle.Program.Tensors.Single(tt => tt.Role == "input").Name, Tessera.Dialects.Graph.Convert.ToAttr(NDArray.Create(FloatType.F16, [70, 3], x)).Storage.Span);
        session.Run(null);
        var outs = bundle.Program.Tensors.Where(tt => tt.Role == "output").ToList();
        Assert.Equal(4, outs.Select(o => o.DramAddress).Distinct().Count());
        double[] Read(int k) => Tessera.Dialects.Graph.Convert.FromAttr(new DenseElementsAttr(TensorType.Of(FloatType.F16, [70, 3]), new ArrayStorage(session.Read(outs[k].Name)))).AsDoubles();
        Assert.Equal(x, Read(0));
        Assert.All(Read(1), v => Assert.Equal(2.5, v));
        Assert.Equal(x.Select(v => 2 * v).ToArray(), Read(2));
        Assert.Equal(Read(2), Read(3));
    }

    [Theory]
    [InlineData("{high = [0, 0], low = [4, 0], padding = 0.0 : f16}", "2x4", "no element of its memref")]   // a tile of padding alone
    [InlineData("{transpose}", "2x2", "a transposed move of a view")]
    public void TileMovesTheDmaCannotDoAreCodedErrors(string attrs, string tile, string why)
    {
        string src = attrs.Contains("transpose", StringComparison.Ordinal) ? "%v" : "%X";
        string tir =
            "func.func @f(%x: tensor<2x4xf16>) -> tensor<2x4xf16> {\n" +
            "  %y = tile.dispatch(%x) ({\n" +
            "  ^bb0(%X: memref<2x4xf16, dram>, %Y: memref<2x4xf16, dram>):\n" +
            $"    %t = tile.alloc {{buffers = 2, name = \"t\"}} : memref<{tile}xf16, sram>\n" +
            "    %c0 = arith.constant 0 : index\n" +
            "    %v = tile.view(%X) {offsets = [0, 0]} : (memref<2x4xf16, dram>) -> memref<2x4xf16, dram>\n" +
            $"    tile.load({src}, %t, %c0, %c0) {attrs} : (memref<2x4xf16, dram>, memref<{tile}xf16, sram>, index, index) -> ()\n" +
            $"    tile.store(%t, %Y, %c0, %c0) : (memref<{tile}xf16, sram>, memref<2x4xf16, dram>, index, index) -> ()\n" +
            "  }) {npu.place = \"npu\", op = \"graph.pad\"} : (tensor<2x4xf16>) -> tensor<2x4xf16>\n" +
            "  func.return(%y) : tensor<2x4xf16>\n}\n";
        var ctx = Contexts.CreateDefault();
        var module = Parser.ParseModule(ctx, tir, "moves.tir");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(npu-lower{config=e1 function=f})", diags)!;
        Assert.False(pm.Run(module, diags).Succeeded);
        var d = Assert.Single(diags.Items, x => x.Severity == Severity.Error);
        Assert.Equal(Tessera.Npu.NpuCodes.LowerUnsupported, d.Code);
        Assert.Contains(why, d.Message);
    }
}
