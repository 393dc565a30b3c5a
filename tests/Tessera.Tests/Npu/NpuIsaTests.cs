using System.Text.Json;
using Tessera.Npu.Isa;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using static Tessera.Tests.Npu.NpuTestUtil;

namespace Tessera.Tests.Npu;

public class NpuIsaTests
{
    public static TheoryData<string> Mnemonics() => [.. Opcodes.All.Select(o => o.Mnemonic)];

    [Theory]
    [MemberData(nameof(Mnemonics))]
    public void EveryInstructionRoundTripsThroughBinaryAndText(string mnemonic)
    {
        var op = Opcodes.Find(mnemonic)!;
        var rng = new Random(mnemonic.Length * 31 + op.Opcode);
        for (int trial = 0; trial < 50; trial++)
        {
            var ins = new Instr(op) { Wait = rng.Next(32), Signal = rng.Next(32) };
            for (int i = 0; i < op.Fields.Count; i++)
            {
                var f = op.Fields[i];
                ins.Values[i] = f.Kind switch
                {
                    FieldKind.Enum => rng.Next(f.Names!.Length),
                    FieldKind.Register => rng.Next(16),
                    _ => trial == 0 ? f.Max : trial == 1 ? f.Min : f.Min + (long)(rng.NextDouble() * ((double)f.Max - f.Min)),
                };
                ins.Regs[i] = f.Kind == FieldKind.Address ? rng.Next(16) : 0;
            }

            var bytes = new byte[16];
            ins.Encode(bytes);
            Assert.Equal(op.Opcode, bytes[0]);
            var back = Instr.Decode(bytes, 0);
            Assert.Same(op, back.Op);
            Assert.Equal(ins.Values, back.Values);
            Assert.Equal(ins.Regs, back.Regs);
            Assert.Equal((ins.Wait, ins.Signal), (back.Wait, back.Signal));

            // text -> bytes: the canonical text assembles to the same 16 bytes
            var text = Disassembler.Format(ins);
            // loop and endloop must be balanced in a program; wrap them and compare their own 16 bytes
            var (prefix, at) = mnemonic == "endloop" ? ("loop count=1\n", 16) : ("", 0);
            var again = Assembler.Assemble(prefix + text + (mnemonic == "loop" ? "\nendloop" : "")).ProgramBytes();
            Assert.Equal(bytes, again.AsSpan(at, 16).ToArray());
        }
    }

    [Fact]
    public void KnownEncodingOfOneInstruction()
    {
        // dma.load: opcode 0x10, wait 2 at bit 8, signal 1 at bit 13, desc=1 at bit 18, sram reg at 30, sram offset at 34 (0x2000),
        // dram reg at 59 (r1), dram offset at 63.
        var w = Assembler.Assemble("dma.load desc=1 sram=0x2000 dram=r1 wait=2 signal=1").Instrs[0].Encode();
        UInt128 want = 0x10 | (2u << 8) | (1u << 13) | (1u << 18) | ((UInt128)0x2000 << 34) | ((UInt128)1 << 59);
        Assert.Equal(want, w);
    }

    [Theory]
    [InlineData("gemm.s")]
    [InlineData("softmax.s")]
    [InlineData("requant.s")]
    public void ExampleProgramsRoundTripAsmBinDisasm(string file)
    {
        var p = Assembler.Assemble(File.ReadAllText(Example(file)), file);
        var text = Disassembler.Format(p);
        var p2 = Assembler.Assemble(text);
        Assert.Equal(p.ProgramBytes(), p2.ProgramBytes());
        Assert.Equal(p.DescriptorBytes(), p2.DescriptorBytes());
        Assert.Equal(text, Disassembler.Format(p2));
        var decoded = AsmProgram.DecodeProgram(p.ProgramBytes());
        Assert.Equal(p.Instrs.Select(Disassembler.Format), decoded.Select(Disassembler.Format));
        Assert.Equal(p.DescriptorBytes(), AsmProgram.DecodeDescriptors(p.DescriptorBytes()).Aggregate(new List<byte>(), (l, d) => { var b = new byte[64]; d.Write(b); l.AddRange(b); return l; }).ToArray());
    }

    [Theory]
    [InlineData("mm.mac src=0x0 m=5000", "TSR0813", "m: 5000 is outside [0, 4095]")]
    [InlineData("mm.mac bogus=1", "TSR0812", "mm.mac has no field 'bogus'")]
    [InlineData("frobnicate", "TSR0812", "unknown instruction 'frobnicate'")]
    [InlineData("loop count=2", "TSR0811", "1 loop(s) not closed by endloop")]
    [InlineData("v.cvt from=i9", "TSR0813", "from must be one of i8, i32, f32, f16, bf16")]
    public void AssemblerErrorsAreCoded(string text, string code, string message)
    {
        var e = Assert.Throws<DiagnosticException>(() => Assembler.Assemble(text, "p.s"));
        Assert.Equal(code, e.Diagnostic.Code);
        Assert.Contains(message, e.Diagnostic.Message);
        Assert.StartsWith("p.s:1:", e.Diagnostic.Render());
    }

    [Fact]
    public void DecoderRejectsUnknownOpcodeAndReservedBits()
    {
        var bytes = new byte[16];
        bytes[0] = 0xEE;
        Assert.Equal("TSR0814", Assert.Throws<DiagnosticException>(() => Instr.Decode(bytes, 3)).Diagnostic.Code);
        bytes[0] = 0x01;
        bytes[15] = 0x80;
        Assert.Contains("reserved bits", Assert.Throws<DiagnosticException>(() => Instr.Decode(bytes, 3)).Diagnostic.Message);
    }

    [Fact]
    public void IsaDocCarriesTheEncodingTable()
    {
        var doc = File.ReadAllText(Path.Combine(Repo.Root, "docs/npu/isa.md"));
        Assert.Contains(Opcodes.EncodingTable(), doc);
    }

    [Theory]
    [InlineData("\"bandwidthGBps\": 51.2", "\"bandwidthGBps\": -3", "target key 'dma.bandwidthGBps': -3 is outside")]
    [InlineData("\"lanes\": 64", "\"lanes\": 48", "target key 'vector.lanes': 48 must be a power of two")]
    [InlineData("\"rows\": 32, ", "", "target key 'matrix.rows': missing")]
    [InlineData("\"banks\": 8", "\"banks\": 8, \"bankz\": 2", "target key 'sram.bankz': unknown key")]
    [InlineData("\"bytes\": 2097152", "\"bytes\": \"2MiB\"", "target key 'sram.bytes': must be an integer")]
    [InlineData("\"bytes\": 262144", "\"bytes\": 262145", "target key 'accumulator.bytes'")]
    public void BadTargetValuesNameTheKey(string from, string to, string message)
    {
        var json = File.ReadAllText(Path.Combine(Repo.Root, "targets/Npu/configs/e1.json"));
        Assert.Contains(from, json);
        var e = Assert.Throws<DiagnosticException>(() => TargetLoader.Parse(json.Replace(from, to), "e1.json"));
        Assert.Equal("TSR0801", e.Diagnostic.Code);
        Assert.Contains(message, e.Diagnostic.Message);
    }

    [Fact]
    public void ShippedTargetsLoad()
    {
        var e1 = E1;
        Assert.Equal((32, 32, 64, 2L << 20, 256L << 10), (e1.MatrixRows, e1.MatrixCols, e1.VectorLanes, e1.SramBytes, e1.AccumulatorBytes));
        Assert.Equal(280, e1.DmaCycles(4096));   // 200 + 4096 / 51.2
        var large = TargetLoader.LoadFile(Path.Combine(Repo.Root, "targets/Npu/configs/edge-large.json"));
        Assert.Equal((128, 24L << 20, 800m), (large.MatrixRows, large.SramBytes, large.DmaBandwidthGBps));
    }

    [Fact]
    public void TraceIsChromeTraceEventFormat()
    {
        var s = Load("softmax.s");
        var r = s.Run(trace: true);
        using var doc = JsonDocument.Parse(Report.TraceJson(r, s.Target, s.Program.Instrs.Select(Disassembler.Format).ToList()));
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        string Meta(JsonElement e) => e.GetProperty("ph").GetString() == "M" ? e.GetProperty("name").GetString()! : "";
        var threads = events.Where(e => Meta(e) == "thread_name")
            .ToDictionary(e => e.GetProperty("tid").GetInt32(), e => e.GetProperty("args").GetProperty("name").GetString());
        Assert.Equal(["load queue", "matrix queue", "vector queue", "store queue"], Enumerable.Range(1, 4).Select(i => threads[i]));
        var order = events.Where(e => Meta(e) == "thread_sort_index")
            .ToDictionary(e => e.GetProperty("tid").GetInt32(), e => e.GetProperty("args").GetProperty("sort_index").GetInt32());
        Assert.Equal([1, 2, 3, 4], Enumerable.Range(1, 4).Select(i => order[i]));
        var spans = events.Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.Equal(8, spans.Count);   // every queued instruction of softmax.s
        double lastEnd = (double)Report.TraceOriginUs;
        foreach (var e in spans.OrderBy(e => e.GetProperty("ts").GetDouble()))
        {
            Assert.Equal(1, e.GetProperty("pid").GetInt32());
            Assert.InRange(e.GetProperty("tid").GetInt32(), 1, 4);
            Assert.True(e.GetProperty("ts").GetDouble() >= lastEnd, "softmax is one dependent chain: spans do not overlap");
            lastEnd = e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble();
        }

        Assert.Equal((double)Report.TraceOriginUs + r.Cycles / 1000.0, lastEnd, 9);   // 1 GHz: 1 cycle = 0.001 µs
    }

    [Fact]
    public void TraceSpansOfAQueueNeverOverlapInDoubles()
    {
        // gemm.s keeps the load queue busy back to back. A viewer computes ts + dur in doubles; one ulp past the next
        // span's ts is a partial overlap, and Chrome DevTools' Performance panel then drops a span from the timeline.
        var s = Load("gemm.s");
        var r = s.Run(trace: true);
        using var doc = JsonDocument.Parse(Report.TraceJson(r, s.Target));
        var spans = doc.RootElement.GetProperty("traceEvents").EnumerateArray().Where(e => e.GetProperty("ph").GetString() == "X")
            .Select(e => (Tid: e.GetProperty("tid").GetInt32(), Ts: e.GetProperty("ts").GetDouble(), Dur: e.GetProperty("dur").GetDouble(),
                Start: e.GetProperty("args").GetProperty("start_cycle").GetInt64(), Cycles: e.GetProperty("args").GetProperty("cycles").GetInt64()))
            .ToList();
        Assert.Equal(r.Trace!.Count, spans.Count);
        Assert.Contains(spans, a => spans.Any(b => b.Tid == a.Tid && b.Start == a.Start + a.Cycles));   // back-to-back spans exist
        foreach (var g in spans.GroupBy(x => x.Tid))
        {
            var q = g.OrderBy(x => x.Ts).ToList();
            for (int i = 1; i < q.Count; i++)
            {
                Assert.True(q[i - 1].Ts + q[i - 1].Dur <= q[i].Ts, $"queue {g.Key}: span at {q[i - 1].Ts} ends past {q[i].Ts}");
            }
        }

        // ts is the origin plus the start cycle at the target clock; cycle 0 is not at ts 0 (DevTools ignores ts 0 when sizing)
        Assert.All(spans, x => Assert.Equal(1 + x.Start / 1000.0, x.Ts, 12));
        Assert.All(spans, x => Assert.Equal(x.Cycles / 1000.0, x.Dur, 12));
        Assert.Equal(1.0, spans.Min(x => x.Ts));
    }

    [Fact]
    public void ExpIsWithinTwoUlpOfDoubleAndConversionsRoundToEven()
    {
        for (float x = -87f; x < 88f; x += 0.0137f)
        {
            double want = Math.Exp(x);
            float got = Numerics.Exp(x);
            Assert.True(Math.Abs(got - want) <= 2 * MathF.BitIncrement((float)want) - 2 * (float)want + 1e-45, $"exp({x}) = {got}, want {want}");
        }

        Assert.Equal(0x3C00, Numerics.F32ToF16(1f));
        Assert.Equal(0x3C00, Numerics.F32ToF16(1f + 1f / 2048));            // tie between 1 and 1+2^-10: even (1)
        Assert.Equal(0x3C02, Numerics.F32ToF16(1f + 3f / 2048));            // tie: even (1+2^-9)
        Assert.Equal(0x7C00, Numerics.F32ToF16(65520f));                    // rounds past the largest finite half
        Assert.Equal(0x0001, Numerics.F32ToF16(MathF.Pow(2, -24)));         // smallest subnormal
        Assert.Equal(0x3F80, Numerics.F32ToBf16(1f + 1f / 256));            // tie: even
        Assert.Equal(0x3F82, Numerics.F32ToBf16(1f + 3f / 256));
        for (int h = 0; h < 0x7C00; h += 7)
        {
            Assert.Equal((float)BitConverter.UInt16BitsToHalf((ushort)h), Numerics.F16ToF32((ushort)h));
            Assert.Equal(h, Numerics.F32ToF16(Numerics.F16ToF32((ushort)h)));
        }
    }
}
