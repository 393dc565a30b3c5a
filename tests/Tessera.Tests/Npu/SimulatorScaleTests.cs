using System.Text.Json;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using Tessera.Npu.Simulator;
using static Tessera.Tests.Npu.NpuTestUtil;

namespace Tessera.Tests.Npu;

/// <summary>What lets a whole 0.5B model run: DRAM beyond the old 256 MiB, a hazard record per run of bytes instead of per
/// byte, the timing-only mode, and bundle files written in chunks.</summary>
public class SimulatorScaleTests
{
    // The store queue writes 64 KiB at 1 GiB (16 pages of one run each); the load queue then reads 4 bytes across a page
    // boundary in the middle. WAIT is replaced by nothing (a race) or by a semaphore wait (ordered).
    private const string StoreThenLoad = """
        .target e1
        .desc 0 dims=1,16,4096 dram_strides=0,4096,1 sram_strides=0,4096,1 elem=1
        .desc 1 dims=1,1,4 dram_strides=0,0,1 sram_strides=0,0,1 elem=1
        dma.store desc=0 sram=0x0 dram=0x40000000 signal=1
        dma.load desc=1 sram=0x20000 dram=0x40000ffe WAIT
        end
        """;

    private static Session Program(string text) => new(Assembler.Assemble(text, "t.s"), E1);

    [Fact]
    public void UnorderedDramAccessInsideALongRunIsAHazard()
    {
        var e = Assert.Throws<DiagnosticException>(() => Program(StoreThenLoad.Replace("WAIT", "")).Run());
        Assert.Equal("TSR0832", e.Diagnostic.Code);
        // Ties go to the load queue first, so the store is the later access; the first byte both touch is 0x40000ffe.
        var m = e.Diagnostic.Message;
        Assert.True(m.Contains("(pc 0, store queue) writes DRAM 0x40000ffe", StringComparison.Ordinal), m);
        Assert.True(m.Contains("`dma.load desc=1 sram=0x20000 dram=0x40000ffe` (pc 1, load queue)", StringComparison.Ordinal), m);
    }

    [Fact]
    public void OrderedDramAccessesAreNoHazard()
    {
        var r = Program(StoreThenLoad.Replace("WAIT", "wait=1")).Run();
        Assert.Equal(65536 + 4, r.DramWritten + r.DramRead);
    }

    [Fact]
    public void TimingOnlyGivesAFullRunsCyclesAndMovesNoData()
    {
        var full = Load("gemm.s");
        var timing = Load("gemm.s");
        timing.Simulator.Machine.Functional = false;
        var b = Enumerable.Range(0, 128 * 128).Select(i => (byte)(i * 7 + 1)).ToArray();
        full.Write("B", b);
        timing.Write("B", b);
        var (rf, rt) = (full.Run(), timing.Run());
        AssertSameTiming(rf, rt);
        Assert.Contains(full.Read("C"), x => x != 0);
        Assert.All(timing.Read("C"), x => Assert.Equal(0, x));
    }

    [Fact]
    public void TimingOnlyMatchesAFullRunOfACompiledModel()
    {
        // Decode: it has host steps (the position compares and cache-slot writes), which a timing-only run skips.
        var bundle = ModelEndToEndTests.Compile(Path.Combine(Repo.Root, "tests/data/gguf/qwen2/qwen2-f16.gguf"), "decode", "").Bundle;
        var host = new Tessera.Passes.Npu.HostRunner(Tessera.Dialects.Contexts.CreateDefault(allowUnregistered: true), bundle.HostModule!);
        var full = new BundleSession(bundle).Run(host);
        var timing = new BundleSession(bundle, timingOnly: true).Run(host: null);
        AssertSameTiming(full.Total, timing.Total);
        Assert.Equal(full.Steps.Select(s => (s.Step.Name, s.Start, s.Cycles)), timing.Steps.Select(s => (s.Step.Name, s.Start, s.Cycles)));
        Assert.Contains(full.Steps, s => s.Step.Kind == "host");
    }

    private static void AssertSameTiming(SimResult full, SimResult timing)
    {
        Assert.True(full.Cycles > 0 && full.Macs > 0);
        Assert.Equal(full.Cycles, timing.Cycles);
        Assert.Equal(full.Busy, timing.Busy);
        Assert.Equal(full.Instructions, timing.Instructions);
        Assert.Equal((full.DramRead, full.DramWritten, full.Macs), (timing.DramRead, timing.DramWritten, timing.Macs));
    }

    [Fact]
    public void TesseraSimTimingOnlySaysSoAndTakesNoData()
    {
        var dir = Path.Combine(Path.GetTempPath(), "npu-timing-" + Guid.NewGuid().ToString("N"));
        var (code, output) = RunCli(["asm", Example("gemm.s"), "-o", dir]);
        Assert.True(code == 0, output);
        (code, output) = RunCli(["sim", dir]);
        Assert.True(code == 0, output);
        var cycles = output.Split('\n')[0];
        (code, output) = RunCli(["sim", dir, "--timing-only"]);
        Assert.True(code == 0, output);
        Assert.Equal(cycles, output.Split('\n')[0]);
        Assert.Contains("timing only: cycles, bounds and hazards checked; no data moved or computed", output);
        (code, output) = RunCli(["sim", dir, "--timing-only", "--output-dir", dir]);
        Assert.Equal(1, code);
        Assert.Contains("--timing-only computes no values", output);
    }

    [Fact]
    public void DramImageWrittenInChunksEqualsTheWholeImage()
    {
        // Two tensors spanning several 64 KiB chunks, the second overlapping the first's end (the later entry wins).
        var p = Assembler.Assemble("""
            .target e1
            .tensor a input dram=0x10 shape=150000 type=i8
            .tensor b input dram=0x24000 shape=70001 type=i8
            end
            """, "t.s");
        var a = Enumerable.Range(0, 150000).Select(i => (byte)(i % 251)).ToArray();
        var b = Enumerable.Range(0, 70001).Select(i => (byte)(255 - i % 253)).ToArray();
        var want = new byte[(0x24000 + 70001 + 3) & ~3];
        a.CopyTo(want, 0x10);
        b.CopyTo(want, 0x24000);

        var dir = Path.Combine(Path.GetTempPath(), "npu-chunks-" + Guid.NewGuid().ToString("N"));
        new NpuBundle { Program = p, Target = E1, Data = { ["a"] = a, ["b"] = b } }.Write(dir);
        Assert.Equal(want, File.ReadAllBytes(Path.Combine(dir, "dram.bin")));
        Assert.Equal(NpuBundle.Hex(want, 4), File.ReadAllBytes(Path.Combine(dir, "dram.hex")));
        Assert.Equal(NpuBundle.Hex(new byte[E1.SramBytes], 4), File.ReadAllBytes(Path.Combine(dir, "sram.hex")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
        var dram = manifest.RootElement.GetProperty("files").GetProperty("dram.hex");
        Assert.Equal(NpuBundle.Sha256(NpuBundle.Hex(want, 4)), dram.GetProperty("sha256").GetString());
        Assert.Equal(want.Length / 4, manifest.RootElement.GetProperty("memories")[2].GetProperty("words").GetInt64());
    }

    [Fact]
    public void ReadingABundleWithoutItsDataStillChecksIt()
    {
        var p = Assembler.Assemble(File.ReadAllText(Example("requant.s")), "requant.s");
        var dir = Path.Combine(Path.GetTempPath(), "npu-nodata-" + Guid.NewGuid().ToString("N"));
        new NpuBundle { Program = p, Target = E1, Data = { ["acc"] = new byte[256], ["w4"] = Enumerable.Repeat((byte)0x5a, 32).ToArray() } }.Write(dir);
        var back = BundleReader.Read(dir, loadData: false);
        Assert.Empty(back.Data);
        Assert.Equal(p.ProgramBytes(), back.Program.ProgramBytes());
        Assert.Equal(2, BundleReader.Read(dir).Data.Count);

        var path = Path.Combine(dir, "dram.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[0x400] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.Equal("TSR0821", Assert.Throws<DiagnosticException>(() => BundleReader.Read(dir, loadData: false)).Diagnostic.Code);
    }
}
