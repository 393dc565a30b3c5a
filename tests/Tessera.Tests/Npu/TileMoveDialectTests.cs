using Tessera.Dialects;

namespace Tessera.Tests.Npu;

/// <summary>The tile dialect's data-movement ops: <c>tile.view</c>, the padded <c>tile.load</c> and <c>tile.gather</c>,
/// what their verifiers reject, and that they print and parse back unchanged.</summary>
public class TileMoveDialectTests
{
    private const string Move = "(memref<8x16xf16, dram>, memref<4x16xf16, sram>, index, index) -> ()";

    private static string Text(string body) =>
        "func.func @f(%x: tensor<8x16xf16>, %i: tensor<4xi64>) -> tensor<16x8xf16> {\n" +
        "  %y = tile.dispatch(%x, %i) ({\n" +
        "  ^bb0(%X: memref<8x16xf16, dram>, %I: memref<4xi64, dram>, %Y: memref<16x8xf16, dram>):\n" +
        "    %t = tile.alloc {buffers = 2, name = \"t\"} : memref<4x16xf16, sram>\n" +
        "    %ids = tile.alloc {name = \"ids\"} : memref<4xi64, sram>\n" +
        "    %c0 = arith.constant 0 : index\n" +
        body +
        "  }) {op = \"graph.gather\"} : (tensor<8x16xf16>, tensor<4xi64>) -> tensor<16x8xf16>\n" +
        "  func.return(%y) : tensor<16x8xf16>\n}\n";

    private static (Operation Module, string? Error) Parse(string body)
    {
        var ctx = Contexts.CreateDefault();
        var module = Parser.ParseModule(ctx, Text(body), "moves.tir");
        var diags = new DiagnosticBag();
        return (module, Verifier.Verify(module, diags) ? null : diags.Render());
    }

    private static string? Verify(string body) => Parse(body).Error;

    private static string View(string attrs, string result = "memref<8x16xf16, dram>", string src = "%X") =>
        $"    %v = tile.view({src}) {{{attrs}}} : (memref<8x16xf16, dram>) -> {result}\n";

    private const string Good =
        "    %v = tile.view(%X) {offsets = [0, 0], perm = [1, 0]} : (memref<8x16xf16, dram>) -> memref<16x8xf16, dram>\n" +
        "    %w = tile.view(%X) {offsets = [7, 15], steps = [-1, -3]} : (memref<8x16xf16, dram>) -> memref<8x6xf16, dram>\n" +
        "    tile.load(%X, %t, %c0, %c0) {high = [0, 0], low = [2, 0], padding = 1.5 : f16} : " + Move + "\n" +
        "    tile.load(%I, %ids, %c0) : (memref<4xi64, dram>, memref<4xi64, sram>, index) -> ()\n" +
        "    tile.gather(%X, %ids, %t) : (memref<8x16xf16, dram>, memref<4xi64, sram>, memref<4x16xf16, sram>) -> ()\n";

    [Fact]
    public void TheMoveOpsVerifyAndRoundTrip()
    {
        var (module, error) = Parse(Good);
        Assert.Null(error);
        string printed = Printer.PrintOp(module);
        Assert.Contains("tile.view(%X) {offsets = [7, 15], steps = [-1, -3]}", printed);
        Assert.Contains("{high = [0, 0], low = [2, 0], padding = 1.5 : f16}", printed);
        Assert.Contains("tile.gather(%X, %ids, %t)", printed);
        var again = Parser.ParseModule(Contexts.CreateDefault(), printed, "again.tir");
        Assert.Equal(printed, Printer.PrintOp(again));
    }

    [Theory]
    [InlineData("offsets = [0, 0], perm = [1, 1]", "memref<16x8xf16, dram>", "is not a permutation")]
    [InlineData("offsets = [0, 10]", "memref<8x8xf16, dram>", "view dim 1 (source dim 1: 8 elements from 10 by 1) leaves the source's 16")]
    [InlineData("offsets = [7, 0], steps = [1, 1]", "memref<2x16xf16, dram>", "leaves the source's 8")]
    [InlineData("offsets = [8, 0], steps = [0, 1]", "memref<4x16xf16, dram>", "view dim 0 (source dim 0: 4 elements from 8 by 0)")]
    [InlineData("offsets = [0]", "memref<8x16xf16, dram>", "need 2 entries")]
    [InlineData("offsets = [0, 0]", "memref<8x16xf32, dram>", "the source's element type and rank")]
    [InlineData("offsets = [0, 0, 0]", "memref<8x16x1xf16, dram>", "the source's element type and rank")]
    public void ViewsMustStayInsideTheirSource(string attrs, string result, string why) =>
        Assert.Contains(why, Verify(View(attrs, result)));

    /// <summary>A zero step repeats a row: the broadcast a rope table shared by every head is loaded through.</summary>
    [Fact]
    public void AZeroStepBroadcasts() => Assert.Null(Verify(View("offsets = [3, 0], steps = [0, 1]", "memref<5x16xf16, dram>")));

    [Fact]
    public void AViewIsOfDram() =>
        Assert.Contains("memref in dram", Verify("    %v = tile.view(%t) {offsets = [0, 0]} : (memref<4x16xf16, sram>) -> memref<4x16xf16, dram>\n"));

    [Theory]
    [InlineData("{padding = 0.0 : f16}", "low, high and padding together")]
    [InlineData("{high = [0], low = [0], padding = 0.0 : f16}", "need 2 non-negative counts")]
    [InlineData("{high = [0, 0], low = [-1, 0], padding = 0.0 : f16}", "need 2 non-negative counts")]
    [InlineData("{high = [0, 0], low = [1, 0], padding = 0.0 : f32}", "must be of the element type f16")]
    public void APaddedLoadNamesItsPaddingInFull(string attrs, string why) =>
        Assert.Contains(why, Verify($"    tile.load(%X, %t, %c0, %c0) {attrs} : {Move}\n"));

    [Fact]
    public void TheTileMustFitThePaddedMemref()
    {
        // 8 rows padded by 2 are 10, which hold a 4-row tile; a 2-row view padded by 1 does not.
        Assert.Null(Verify($"    tile.load(%X, %t, %c0, %c0) {{high = [2, 0], low = [0, 0], padding = 0.0 : f16}} : {Move}\n"));
        Assert.Contains("tile 4x16 does not fit memref 3x16", Verify(
            View("offsets = [0, 0]", "memref<2x16xf16, dram>") +
            "    tile.load(%v, %t, %c0, %c0) {high = [1, 0], low = [0, 0], padding = 0.0 : f16} : (memref<2x16xf16, dram>, memref<4x16xf16, sram>, index, index) -> ()\n"));
    }

    [Fact]
    public void OnlyALoadPads() =>
        Assert.Contains("a padded move is a tile.load", Verify(
            "    tile.store(%t, %X, %c0, %c0) {high = [0, 0], low = [0, 0], padding = 0.0 : f16} : (memref<4x16xf16, sram>, memref<8x16xf16, dram>, index, index) -> ()\n"));

    [Theory]
    [InlineData("tile.gather(%X, %ids, %t) : (memref<8x16xf16, dram>, memref<4xi64, sram>, memref<4x16xf16, sram>) -> ()", null)]
    [InlineData("tile.gather(%Y, %ids, %t) : (memref<16x8xf16, dram>, memref<4xi64, sram>, memref<4x16xf16, sram>) -> ()", "needs table[R x C] in dram, ids[K] and dst[K x C] in sram")]
    [InlineData("tile.gather(%X, %t, %t) : (memref<8x16xf16, dram>, memref<4x16xf16, sram>, memref<4x16xf16, sram>) -> ()", "needs table[R x C]")]
    [InlineData("tile.gather(%X, %j, %t) : (memref<8x16xf16, dram>, memref<4xi32, sram>, memref<4x16xf16, sram>) -> ()", "the ids are i64")]
    [InlineData("tile.gather(%X, %ids, %f) : (memref<8x16xf16, dram>, memref<4xi64, sram>, memref<4x16xf32, sram>) -> ()", "the same element type")]
    public void AGatherPicksWholeRowsByI64Ids(string gather, string? why)
    {
        string body = "    %j = tile.alloc {name = \"j\"} : memref<4xi32, sram>\n    %f = tile.alloc {name = \"f\"} : memref<4x16xf32, sram>\n    " + gather + "\n";
        if (why is null)
        {
            Assert.Null(Verify(body));
        }
        else
        {
            Assert.Contains(why, Verify(body));
        }
    }

    [Fact]
    public void AnIndexTileIsOnlyLoadedAndGathered() =>
        Assert.Contains("may only be written by tile.load and read by tile.gather", Verify(
            "    tile.gather(%X, %ids, %t) : (memref<8x16xf16, dram>, memref<4xi64, sram>, memref<4x16xf16, sram>) -> ()\n" +
            "    tile.store(%ids, %I, %c0) : (memref<4xi64, sram>, memref<4xi64, dram>, index) -> ()\n"));
}
