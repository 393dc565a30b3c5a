using Tessera.Dialects;

namespace Tessera.Tests.Npu;

/// <summary>The tile dialect's verifier: what a dispatch binds, what a move indexes, and the shapes an mma needs.</summary>
public class TileDialectTests
{
    private static string? Verify(string body, string bindings = "%A: memref<8x16xf16, dram>, %B: memref<16x8xf16, dram>, %C: memref<8x8xf16, dram>",
        string signature = "(tensor<8x16xf16>, tensor<16x8xf16>) -> tensor<8x8xf16>")
    {
        var text =
            "func.func @f(%x: tensor<8x16xf16>, %w: tensor<16x8xf16>) -> tensor<8x8xf16> {\n" +
            "  %y = tile.dispatch(%x, %w) ({\n" +
            $"  ^bb0({bindings}):\n" +
            "    %s = tile.alloc {buffers = 2, name = \"s\"} : memref<8x16xf16, sram>\n" +
            "    %w2 = tile.alloc {name = \"w\"} : memref<16x8xf16, sram>\n" +
            "    %acc = tile.alloc {name = \"acc\"} : memref<8x8xf32, acc>\n" +
            "    %c0 = arith.constant 0 : index\n" +
            body +
            $"  }}) {{op = \"graph.mat_mul\"}} : {signature}\n" +
            "  func.return(%y) : tensor<8x8xf16>\n}\n";
        var ctx = Contexts.CreateDefault();
        var module = Parser.ParseModule(ctx, text, "tile.tir");
        var diags = new DiagnosticBag();
        return Verifier.Verify(module, diags) ? null : diags.Render();
    }

    private const string Good =
        "    tile.load(%A, %s, %c0, %c0) : (memref<8x16xf16, dram>, memref<8x16xf16, sram>, index, index) -> ()\n" +
        "    tile.load(%B, %w2, %c0, %c0) : (memref<16x8xf16, dram>, memref<16x8xf16, sram>, index, index) -> ()\n" +
        "    tile.mma(%s, %w2, %acc, %c0) : (memref<8x16xf16, sram>, memref<16x8xf16, sram>, memref<8x8xf32, acc>, index) -> ()\n";

    [Fact]
    public void AWellFormedDispatchVerifies() => Assert.Null(Verify(Good));

    [Fact]
    public void BindingsMustViewTheTensorsInDram()
    {
        Assert.Contains("binding #2 must be a dram memref", Verify(Good, "%A: memref<8x16xf16, dram>, %B: memref<16x8xf16, dram>, %C: memref<8x8xf16, sram>"));
        Assert.Contains("binds 2 memrefs for 3 operands and results", Verify(Good, "%A: memref<8x16xf16, dram>, %B: memref<16x8xf16, dram>"));
        // A binding may fold dims: 8x8 viewed as 64 elements is the same bytes.
        Assert.Null(Verify(Good, "%A: memref<8x16xf16, dram>, %B: memref<16x8xf16, dram>, %C: memref<64xf16, dram>"));
    }

    [Fact]
    public void MovesNeedOneIndexPerDimAndATileThatFits()
    {
        Assert.Contains("needs 2 indices", Verify(
            "    tile.load(%A, %s, %c0) : (memref<8x16xf16, dram>, memref<8x16xf16, sram>, index) -> ()\n"));
        // Transposed, the 8x16 tile is 16x8 of A's 8x16: too tall.
        Assert.Contains("does not fit memref 8x16", Verify(
            "    tile.load(%A, %s, %c0, %c0) {transpose} : (memref<8x16xf16, dram>, memref<8x16xf16, sram>, index, index) -> ()\n"));
    }

    [Fact]
    public void LoadSizesStayWithinTheTile()
    {
        // A block of 4 of the tile's 8 rows verifies; 9 rows, or one dim, do not.
        Assert.Null(Verify(
            "    tile.load(%A, %s, %c0, %c0) {sizes = [4, 16]} : (memref<8x16xf16, dram>, memref<8x16xf16, sram>, index, index) -> ()\n"));
        Assert.Contains("sizes [9, 16] must be two dims within the tile 8x16", Verify(
            "    tile.load(%A, %s, %c0, %c0) {sizes = [9, 16]} : (memref<8x16xf16, dram>, memref<8x16xf16, sram>, index, index) -> ()\n"));
        Assert.Contains("sizes [4] must be two dims", Verify(
            "    tile.load(%A, %s, %c0, %c0) {sizes = [4]} : (memref<8x16xf16, dram>, memref<8x16xf16, sram>, index, index) -> ()\n"));
    }

    [Fact]
    public void MmaNeedsAgreeingShapesAndAnF32Accumulator() =>
        Assert.Contains("needs s[P x K], w[K x Q] and acc[P x Q]", Verify(
            "    tile.mma(%w2, %s, %acc, %c0) : (memref<16x8xf16, sram>, memref<8x16xf16, sram>, memref<8x8xf32, acc>, index) -> ()\n"));

    [Fact]
    public void LoopsNeedAPositiveStep() =>
        Assert.Contains("needs step >= 1", Verify(
            "    tile.for ({\n    ^bb0(%i: index):\n    }) {lower = 0, step = 0, upper = 8} : () -> ()\n"));
}
