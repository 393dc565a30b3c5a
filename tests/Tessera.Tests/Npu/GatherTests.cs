using Tessera.Dialects.Graph;
using Tessera.IR.Passes;
using Tessera.Npu.Isa;
using Tessera.Npu.Simulator;
using Tessera.Passes;
using Tessera.Passes.Npu;
using Tessera.Tests.Passes;
using static Tessera.Tests.Npu.NpuTestUtil;

namespace Tessera.Tests.Npu;

/// <summary>The embedding lookup on the NPU: <c>dma.gather</c> in the simulator (its semantics, checks and timing, from
/// docs/npu/isa.md) and <c>graph.gather</c> through the pipeline against rows picked here.</summary>
public class GatherTests
{
    // Table [5 rows × 3 f32] at 0x1000, ids (int64) at 0x2000, loaded to SRAM 0x40; the gather puts their rows at SRAM 0x100.
    private static string Program(int rows) =>
        ".target e1\n" +
        ".desc 0 dims=1,1,8 dram_strides=0,0,4 sram_strides=0,0,4 elem=4\n" +
        $".desc 1 dims=1,4,3 dram_strides=0,12,4 sram_strides=0,12,4 elem=4 pad_value={rows}\n" +
        ".desc 2 dims=1,4,3 dram_strides=0,12,4 sram_strides=0,12,4 elem=4\n" +
        ".tensor table input dram=0x1000 shape=5,3 type=f32\n" +
        ".tensor ids input dram=0x2000 shape=4 type=i64\n" +
        ".tensor out output dram=0x3000 shape=4,3 type=f32\n" +
        "dma.load desc=0 sram=0x40 dram=0x2000\n" +
        "dma.gather desc=1 sram=0x100 dram=0x1000 idx=0x40 signal=1\n" +
        "dma.store desc=2 sram=0x100 dram=0x3000 wait=1\n" +
        "end\n";

    private static Session Run(long[] ids, int rows = 5)
    {
        var s = new Session(Assembler.Assemble(Program(rows), "gather.s"), E1);
        s.Write("table", [.. Enumerable.Range(0, 15).SelectMany(i => BitConverter.GetBytes((float)(i + 1)))]);
        s.Write("ids", [.. ids.SelectMany(BitConverter.GetBytes)]);
        return s;
    }

    [Fact]
    public void GatherCopiesTheIndexedRows()
    {
        var s = Run([4, 0, 2, 4]);
        var result = s.Run();
        var got = Enumerable.Range(0, 12).Select(i => BitConverter.ToSingle(s.Read("out"), 4 * i)).ToArray();
        Assert.Equal([13f, 14, 15, 1, 2, 3, 7, 8, 9, 13, 14, 15], got);
        // Timed as the ids' load, then the gather's 4·3·4 bytes, then the store, in order on their queues.
        Assert.Equal(Dma(E1, 32) + Dma(E1, 48) + Dma(E1, 48), result.Cycles);
    }

    [Theory]
    [InlineData(5L)]
    [InlineData(-1L)]
    public void AnIndexOutsideTheTableStopsTheRun(long bad)
    {
        var e = Assert.Throws<DiagnosticException>(() => Run([0, bad, 1, 2]).Run());
        Assert.Equal(Tessera.Npu.NpuCodes.SimBadOperand, e.Diagnostic.Code);
        Assert.Contains($"index {bad} (row 1) is outside the table's 5 rows", e.Diagnostic.Message);
    }

    [Fact]
    public void GatherRoundTripsThroughTheAssembler()
    {
        var p = Assembler.Assemble(Program(5), "gather.s");
        var text = Disassembler.Format(p);
        Assert.Contains("dma.gather desc=1 sram=0x100 dram=0x1000 idx=0x40 signal=1", text);
        Assert.Equal(p.ProgramBytes(), Assembler.Assemble(text, "again.s").ProgramBytes());
    }

    [Theory]
    [InlineData(50, 96, "f16", new long[] { 0, 49, 7, 7, 13 })]
    [InlineData(3, 5, "bf16", new long[] { 2, 1, 0 })]
    [InlineData(9, 40000, "f16", new long[] { 8, 0, 3, 3, 1, 2, 7, 5, 4, 6, 8, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 2 })]   // several chunks
    public void EmbeddingLookupRunsOnTheNpu(int rows, int cols, string t, long[] ids)
    {
        string table = $"tensor<{rows}x{cols}x{t}>", idx = $"tensor<1x{ids.Length}xi64>", res = $"tensor<1x{ids.Length}x{cols}x{t}>";
        var (ctx, module) = PassTestUtil.Parse($"func.func @f(%w: {table}, %ids: {idx}) -> {res} {{\n" +
            $"  %y = graph.gather(%w, %ids) {{axis = 0}} : ({table}, {idx}) -> {res}\n  func.return(%y) : {res}\n}}\n");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        Assert.Equal(NpuPlacement.Npu, (module.Walk().Single(o => o.Name == "graph.gather").GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value);
        var bundle = NpuIR.Lower(ctx, module, "f", "e1").Bundle;
        Assert.All(bundle.Steps, s => Assert.Equal("npu", s.Kind));

        var w = Enumerable.Range(0, rows * cols).Select(i => Round(Math.Sin(i * 0.01) * 4, t)).ToArray();
        var session = new BundleSession(bundle);
        var inputs = bundle.Program.Tensors.Where(x => x.Role == "input").ToList();
        session.Write(inputs[0].Name, Bits(w, t));
        session.Write(inputs[1].Name, [.. ids.SelectMany(BitConverter.GetBytes)]);
        session.Run(null);
        var got = Values(session.Read(bundle.Program.Tensors.Single(x => x.Role == "output").Name), t);
        var want = ids.SelectMany(id => w.Skip((int)id * cols).Take(cols)).ToArray();
        Assert.Equal(want, got);
    }

    [Fact]
    public void AGatherReadsOnlyTheRowsItPicks()
    {
        // 3 ids into a 1000 x 64 f16 table: the least DRAM traffic is the ids (24 bytes), the 3 rows read and the 3 rows
        // written (3 · 64 · 2 bytes each way), not the table's 128,000 bytes.
        const string tir = "func.func @f(%w: tensor<1000x64xf16>, %ids: tensor<3xi64>) -> tensor<3x64xf16> {\n" +
            "  %y = graph.gather(%w, %ids) {axis = 0} : (tensor<1000x64xf16>, tensor<3xi64>) -> tensor<3x64xf16>\n" +
            "  func.return(%y) : tensor<3x64xf16>\n}\n";
        var (ctx, module) = PassTestUtil.Parse(tir);
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", new DiagnosticBag())!;
        Assert.True(pm.Run(module, new DiagnosticBag()).Succeeded);
        var layer = Assert.Single(NpuIR.Lower(ctx, module, "f", "e1").Layers);
        Assert.Equal(24 + (2 * 3 * 64 * 2), layer.MinDramBytes);
    }

    [Fact]
    public void GathersTheNpuCannotDoSayWhy()
    {
        var (ctx, module) = PassTestUtil.Parse("func.func @f(%w: tensor<4x6xf16>, %i: tensor<2xi64>, %s: tensor<3xi64>, %j: tensor<2xi32>) -> (tensor<4x2xf16>, tensor<2xi64>, tensor<2x6xf16>) {\n" +
            "  %a = graph.gather(%w, %i) {axis = 1} : (tensor<4x6xf16>, tensor<2xi64>) -> tensor<4x2xf16>\n" +
            "  %b = graph.gather(%s, %i) {axis = 0} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>\n" +
            "  %c = graph.gather(%w, %j) {axis = 0} : (tensor<4x6xf16>, tensor<2xi32>) -> tensor<2x6xf16>\n" +
            "  func.return(%a, %b, %c) : (tensor<4x2xf16>, tensor<2xi64>, tensor<2x6xf16>) -> ()\n}\n");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        var why = module.Walk().Where(o => o.Name == "graph.gather").Select(o => (o.GetAttr(NpuPlacement.ReasonAttr) as StringAttr)?.Value).ToList();
        Assert.Contains("axis 0", why[0]);
        Assert.Contains("8-byte elements", why[1]);
        Assert.Contains("int64 indices", why[2]);
    }
}
