using System.Diagnostics;
using System.Text.Json;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using static Tessera.Tests.Npu.NpuTestUtil;

namespace Tessera.Tests.Npu;

public class NpuBundleTests
{
    private static string Temp()
    {
        var d = Path.Combine(Path.GetTempPath(), "npu-bundle-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void BundleRoundTripsAndTesseraSimMatchesExpected()
    {
        var p = Assembler.Assemble(File.ReadAllText(Example("requant.s")), "requant.s");
        var acc = new byte[256];
        for (int i = 0; i < 64; i++) BitConverter.TryWriteBytes(acc.AsSpan(4 * i), (i - 32) * 1000);
        var w4 = Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray();

        // expected q2 from an independent reference (same formulas as RequantizeChainAndInt4UnpackAreBitExact)
        var q2 = new byte[64];
        for (int i = 0; i < 64; i++)
        {
            var q1 = Sat8(RoundShift((i - 32) * 1000 * 1690421584L, 37) - 5);
            q2[i] = (byte)Sat8(RoundShift((q1 + 5) * 1503238554L, 31) + 10);
        }

        var dir = Temp();
        new NpuBundle { Program = p, Target = E1, Data = { ["acc"] = acc, ["w4"] = w4 }, Expected = { ["q2"] = q2 } }.Write(dir);
        var back = BundleReader.Read(dir);
        Assert.Equal(p.ProgramBytes(), back.Program.ProgramBytes());
        Assert.Equal(p.DescriptorBytes(), back.Program.DescriptorBytes());
        Assert.Equal(acc, back.Data["acc"]);
        Assert.Equal(q2, back.Expected["q2"]);

        var hex = File.ReadAllLines(Path.Combine(dir, "program.hex"));
        Assert.Equal(p.Instrs.Count, hex.Length);
        Assert.Equal(p.Instrs[0].Encode().ToString("x32"), hex[0]);
        var dramHex = File.ReadAllLines(Path.Combine(dir, "dram.hex"));
        Assert.Equal(unchecked((uint)-32000).ToString("x8"), dramHex[0]);   // acc[0] = -32000, little-endian word 0
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
        Assert.Equal(32, manifest.RootElement.GetProperty("target").GetProperty("matrix").GetProperty("rows").GetInt32());

        var (code, output) = RunCli(["sim", dir, "--trace", Path.Combine(dir, "t.json")]);
        Assert.True(code == 0, output);
        Assert.Contains("output q2: match (bit-exact)", output);
        using var trace = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "t.json")));
        Assert.True(trace.RootElement.GetProperty("traceEvents").GetArrayLength() > 5);

        // a corrupted file is refused
        File.WriteAllBytes(Path.Combine(dir, "dma.bin"), new byte[p.Descriptors.Count * 64]);
        Assert.Equal("TSR0821", Assert.Throws<Tessera.IR.DiagnosticException>(() => BundleReader.Read(dir)).Diagnostic.Code);
    }

    [Fact]
    public void TesseraAsmThenDisasmPrintsTheCanonicalProgram()
    {
        var dir = Temp();
        var (code, output) = RunCli(["asm", Example("gemm.s"), "-o", dir]);
        Assert.True(code == 0, output);
        (code, output) = RunCli(["disasm", dir]);
        Assert.Equal(0, code);
        Assert.Equal(Disassembler.Format(Assembler.Assemble(File.ReadAllText(Example("gemm.s")))), output);
    }
}
