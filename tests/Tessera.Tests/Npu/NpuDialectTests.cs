using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.Dialects.Npu;
using Tessera.Npu.Simulator;
using Tessera.IR.Passes;
using Tessera.Npu.Lowering;
using Tessera.Npu.Target;
using Tessera.Passes;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Npu;

/// <summary>The npu dialect: npu-lower's output prints, parses back and encodes to the same bundle; the verifier rejects
/// broken SRAM plans, stray accesses and dangling names; the SRAM allocator reuses freed space and respects capacity.</summary>
public class NpuDialectTests
{
    // A constant weight (bytes in the memory map), a vector kernel, a transpose, and a host op (abs has no NPU kernel).
    private const string Model =
        "func.func @f(%x: tensor<40x64xf16>) -> (tensor<40x48xf16>, tensor<48x40xf16>) {\n" +
        "  %w = arith.constant dense<0.25> : tensor<64x48xf16>\n" +
        "  %y = graph.mat_mul(%x, %w) : (tensor<40x64xf16>, tensor<64x48xf16>) -> tensor<40x48xf16>\n" +
        "  %s = graph.silu(%y) : (tensor<40x48xf16>) -> tensor<40x48xf16>\n" +
        "  %a = graph.abs(%s) : (tensor<40x48xf16>) -> tensor<40x48xf16>\n" +
        "  %t = graph.transpose(%s) {perm = [1, 0]} : (tensor<40x48xf16>) -> tensor<48x40xf16>\n" +
        "  func.return(%a, %t) : (tensor<40x48xf16>, tensor<48x40xf16>) -> ()\n}\n";

    private static (Context Ctx, Operation Module) Lowered(string config = "e1")
    {
        var ctx = Contexts.CreateDefault();
        var module = Parser.ParseModule(ctx, Model, "model.tir");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(),
            $"builtin.module(func.func(npu-partition,npu-tile{{config={config}}},npu-matmul-to-tile,npu-vector-to-tile{{config={config}}},npu-attention-to-tile{{config={config}}},npu-move-to-tile{{config={config}}}),npu-lower{{config={config} function=f}})", diags);
        Assert.True(pm is not null && pm.Run(module, diags).Succeeded, diags.Render());
        return (ctx, module);
    }

    private static Operation Program(Operation module) => module.Regions[0].Operations.Single(o => o.Name == "npu.program");

    private static string? VerifyError(Operation module)
    {
        var diags = new DiagnosticBag();
        return Verifier.Verify(module, diags) ? null : diags.Render();
    }

    [Fact]
    public void LoweredProgramRoundTripsThroughTextToTheSameBundle()
    {
        var (ctx, module) = Lowered();
        var program = Program(module);
        Assert.Contains(program.Regions[0].Operations, o => o.Name == "npu.host_step");
        Assert.Contains(program.Regions[0].Operations, o => o.Name == "npu.tensor" && o.GetAttr("value") is DenseElementsAttr);
        var text = Printer.PrintOp(module, PrintOptions.Full);
        var reparsed = Parser.ParseModule(ctx, text, "lowered.tir");
        Assert.Null(VerifyError(reparsed));
        Assert.Equal(text, Printer.PrintOp(reparsed, PrintOptions.Full));

        var a = NpuProgramIR.ToBundle(program);
        var b = NpuProgramIR.ToBundle(Program(reparsed));
        Assert.Equal(a.Program.ProgramBytes(), b.Program.ProgramBytes());
        Assert.Equal(a.Program.DescriptorBytes(), b.Program.DescriptorBytes());
        Assert.Equal(a.Program.Tensors, b.Program.Tensors, (x, y) => x.Name == y.Name && x.DramAddress == y.DramAddress && x.Shape.SequenceEqual(y.Shape) && x.Type == y.Type && x.Role == y.Role);
        Assert.Equal(a.Data.Keys.Order(StringComparer.Ordinal), b.Data.Keys.Order(StringComparer.Ordinal));
        Assert.All(a.Data, kv => Assert.Equal(kv.Value, b.Data[kv.Key]));
        Assert.Equal(a.Steps.Select(s => s.ToJson().ToJsonString()), b.Steps.Select(s => s.ToJson().ToJsonString()));
        Assert.Equal(a.HostModule, b.HostModule);
        Assert.Equal(a.Program.Entries, b.Program.Entries);
        Assert.True(a.Program.Instrs.Count > 10);
    }

    [Fact]
    public void EveryKernelAccessLiesInsideAnSramBufferThatIsLive()
    {
        // Independent of the verifier: decode the lowered bundle's instructions with the disassembler's field values and
        // check the DMA loads' SRAM addresses against the kernels' buffers.
        var (_, module) = Lowered();
        var program = Program(module);
        foreach (var kernel in program.Regions[0].Operations.Where(o => o.Name == "npu.kernel"))
        {
            var bufs = kernel.Regions[0].Operations.Where(o => o.Name == "npu.buffer")
                .Select(o => (Offset: ((IntegerAttr)o.GetAttr("offset")!).Value, Bytes: ((IntegerAttr)o.GetAttr("bytes")!).Value)).ToList();
            Assert.NotEmpty(bufs);
            foreach (var load in kernel.Regions[0].Operations.Where(o => o.Name is "npu.dma.load" or "npu.dma.store"))
            {
                long sram = load.GetAttr("sram") is IntegerAttr i ? i.Value : 0;
                Assert.Contains(bufs, b => b.Offset <= sram && sram < b.Offset + b.Bytes);
            }
        }
    }

    [Fact]
    public void VerifierRejectsOverlappingLiveBuffers()
    {
        var (_, module) = Lowered();
        var kernel = Program(module).Regions[0].Operations.First(o => o.Name == "npu.kernel");
        var bufs = kernel.Regions[0].Operations.Where(o => o.Name == "npu.buffer").ToList();
        bufs[1].SetAttr("offset", IntegerAttr.I64(((IntegerAttr)bufs[0].GetAttr("offset")!).Value));
        Assert.Contains("overlap while both are live", VerifyError(module));
    }

    [Fact]
    public void BuffersWhoseLiveRangesDoNotMeetMayShareSram()
    {
        var (_, module) = Lowered();
        var kernel = Program(module).Regions[0].Operations.First(o => o.Name == "npu.kernel");
        var first = kernel.Regions[0].Operations.First();
        Assert.Equal("npu.buffer", first.Name);
        long top = kernel.Regions[0].Operations.Where(o => o.Name == "npu.buffer").Max(o => ((IntegerAttr)o.GetAttr("offset")!).Value + ((IntegerAttr)o.GetAttr("bytes")!).Value);
        // Two more buffers at one offset, live over instructions 0 and 1 (sem.posts, which touch no SRAM): they may share.
        Operation Extra(string name, long at)
        {
            var b = first.Clone(Contexts.CreateDefault(), new IRMapping());
            b.SetAttr("name", new StringAttr(name));
            b.SetAttr("offset", IntegerAttr.I64((top + 63) & ~63L));
            b.SetAttr("bytes", IntegerAttr.I64(256));
            b.SetAttr("first", IntegerAttr.I64(at));
            b.SetAttr("last", IntegerAttr.I64(at));
            kernel.Regions[0].EntryBlock!.InsertBefore(first, b);
            return b;
        }

        Extra("early", 0);
        var late = Extra("late", 1);
        Assert.Null(VerifyError(module));
        late.SetAttr("first", IntegerAttr.I64(0));
        Assert.Contains("overlap while both are live", VerifyError(module));
    }

    [Fact]
    public void VerifierRejectsAnAccessOutsideEveryBuffer()
    {
        var (_, module) = Lowered();
        var kernel = Program(module).Regions[0].Operations.First(o => o.Name == "npu.kernel");
        var top = kernel.Regions[0].Operations.Where(o => o.Name == "npu.buffer").Max(o => ((IntegerAttr)o.GetAttr("offset")!).Value + ((IntegerAttr)o.GetAttr("bytes")!).Value);
        var load = kernel.Regions[0].Operations.First(o => o.Name == "npu.dma.load");
        load.SetAttr("sram", IntegerAttr.I64(top + 4096));
        Assert.Contains("not inside a live SRAM buffer", VerifyError(module));
    }

    [Fact]
    public void VerifierRejectsABufferBeyondSram()
    {
        var (_, module) = Lowered();
        var buf = Program(module).Walk().First(o => o.Name == "npu.buffer");
        buf.SetAttr("offset", IntegerAttr.I64(TargetLoader.LoadNamed("e1").SramBytes - 64));
        Assert.Contains("exceeds target e1's", VerifyError(module));
    }

    [Fact]
    public void VerifierRejectsDanglingNamesAndBadFields()
    {
        var (_, module) = Lowered();
        var kernel = Program(module).Regions[0].Operations.First(o => o.Name == "npu.kernel");
        kernel.SetAttr("inputs", new ArrayAttr([new StringAttr("nowhere")]));
        Assert.Contains("names tensor 'nowhere'", VerifyError(module));

        (_, module) = Lowered();
        var mac = Program(module).Walk().First(o => o.Name == "npu.mm.mac");
        mac.SetAttr("m", IntegerAttr.I64(1 << 12));
        Assert.Contains("integer in [0, 4095]", VerifyError(module));

        (_, module) = Lowered();
        var step = Program(module).Regions[0].Operations.First(o => o.Name == "npu.host_step");
        step.SetAttr("sym_name", new StringAttr("h99"));
        Assert.Contains("has no function in the nested module @host", VerifyError(module));
    }

    [Fact]
    public void ElidedWeightsCannotBecomeABundle()
    {
        var (ctx, module) = Lowered();
        var text = Printer.PrintOp(module, new PrintOptions { ElideElementsLargerThan = 16 });
        var reparsed = Parser.ParseModule(ctx, text, "elided.tir");
        var e = Assert.Throws<DiagnosticException>(() => NpuProgramIR.ToBundle(Program(reparsed)));
        Assert.Contains("elided", e.Diagnostic.Message);
    }

    [Fact]
    public void AllocatorReusesFreedSpaceFirstFitAndStopsAtCapacity()
    {
        var t = TargetLoader.LoadNamed("e1");
        var pb = new ProgramBuilder(t);
        pb.Entry("k");
        long a = pb.Alloc("a", 1000), b = pb.Alloc("b", 100);
        Assert.Equal((0L, 1024L), (a, b));
        pb.Line("sem.post sem=1 count=1");
        pb.Free(a);
        long c = pb.Alloc("c", 500);   // fits the hole a left
        long d = pb.Alloc("d", 700);   // does not: goes after b
        Assert.Equal((0L, 1152L), (c, d));
        var e = Assert.Throws<DiagnosticException>(() => pb.Alloc("huge", t.SramBytes));
        Assert.Equal(Tessera.Npu.NpuCodes.LowerUnsupported, e.Diagnostic.Code);
        pb.Line("end");
        pb.Entry("k2");
        Assert.Equal(0L, pb.Alloc("fresh", t.SramBytes));   // the previous kernel's buffers died with it
        pb.Line("end");
        pb.Assemble();
        var byName = pb.Buffers.ToDictionary(x => x.Name);
        Assert.Equal((0, 0), (byName["a"].First, byName["a"].Last));
        Assert.Equal((1, 1), (byName["c"].First, byName["c"].Last));
        Assert.Equal(("k2", 0, 0), (byName["fresh"].Entry, byName["fresh"].First, byName["fresh"].Last));
    }

    private const string Chain =
        "func.func @chain(%x: tensor<64x96xf16>) -> tensor<64x96xf16> {\n" +
        "  %a = graph.silu(%x) : (tensor<64x96xf16>) -> tensor<64x96xf16>\n" +
        "  %b = graph.neg(%a) : (tensor<64x96xf16>) -> tensor<64x96xf16>\n" +
        "  %c = graph.silu(%b) : (tensor<64x96xf16>) -> tensor<64x96xf16>\n" +
        "  %d = graph.mul(%c, %x) : (tensor<64x96xf16>, tensor<64x96xf16>) -> tensor<64x96xf16>\n" +
        "  func.return(%d) : tensor<64x96xf16>\n}\n";

    [Fact]
    public void ActivationsWhoseLiveRangesDoNotMeetShareDramAndTheResultIsRight()
    {
        var ctx = Contexts.CreateDefault();
        var module = Parser.ParseModule(ctx, Chain, "chain.tir");
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition,npu-tile))", new DiagnosticBag())!;
        Assert.True(pm.Run(module, new DiagnosticBag()).Succeeded);
        var lowered = NpuIR.Lower(ctx, module, "chain", "e1");
        var acts = lowered.Bundle.Program.Tensors.Where(t => t.Role == "activation").ToList();
        Assert.Equal(3, acts.Count);   // a, b, c: a lives over steps 0-1, c over 2-3, so they share bytes; b meets both
        var a = acts.Single(t => t.Name == "a");
        Assert.Equal(a.DramAddress, acts.Single(t => t.Name == "c").DramAddress);
        Assert.NotEqual(a.DramAddress, acts.Single(t => t.Name == "b").DramAddress);

        var x = NDArray.Create(FloatType.F16, [64, 96], [.. Enumerable.Range(0, 64 * 96).Select(i => Math.Sin(i * 0.37) * 3)]);
        var reference = GraphEvaluator.Run(Tessera.Tests.Passes.PassTestUtil.Func(module, "chain"), [x])[0].AsDoubles();
        var session = new BundleSession(lowered.Bundle);
        session.Write(lowered.Bundle.Program.Tensors.Single(t => t.Role == "input").Name, Tessera.Dialects.Graph.Convert.ToAttr(x).Storage.Span.ToArray());
        session.Run(null);
        var bits = session.Read(lowered.Bundle.Program.Tensors.Single(t => t.Role == "output").Name);
        var got = Tessera.Dialects.Graph.Convert.FromAttr(new DenseElementsAttr(TensorType.Of(FloatType.F16, [64, 96]), new ArrayStorage(bits))).AsDoubles();
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(got[i] - reference[i]) <= 0.02 + (0.01 * Math.Abs(reference[i])), $"element {i}: {got[i]} vs {reference[i]}");
        }
    }

    [Fact]
    public void VerifierRejectsSharedDramBetweenLiveActivationsAndUseOutsideALiveRange()
    {
        var ctx = Contexts.CreateDefault();
        var module = Parser.ParseModule(ctx, Chain, "chain.tir");
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition,npu-tile,npu-matmul-to-tile,npu-vector-to-tile),npu-lower{function=chain})", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        Assert.Null(VerifyError(module));
        var tensors = Program(module).Regions[0].Operations.Where(o => o.Name == "npu.tensor").ToDictionary(o => ((StringAttr)o.GetAttr("name")!).Value);
        tensors["c"].SetAttr("live", new ArrayAttr([IntegerAttr.I64(1), IntegerAttr.I64(3)]));   // now meets a
        Assert.Contains("overlap in DRAM while both are live", VerifyError(module));
        tensors["c"].SetAttr("live", new ArrayAttr([IntegerAttr.I64(3), IntegerAttr.I64(3)]));   // but step 2 writes c
        Assert.Contains("outside its live range", VerifyError(module));
    }
}
