using System.Buffers.Binary;
using Tessera.Npu.Isa;
using static Tessera.Tests.Npu.NpuTestUtil;

namespace Tessera.Tests.Npu;

/// <summary>The hand-written programs in targets/Npu/examples run in the simulator and match C# references and analytic cycle counts.</summary>
public class NpuProgramTests
{
    [Fact]
    public void TiledGemmMatchesReferenceAndAnalyticCycles()
    {
        var s = Load("gemm.s");
        var rng = new Random(5);
        var a = new sbyte[64 * 128];
        var b = new sbyte[128 * 128];
        for (int i = 0; i < a.Length; i++) a[i] = (sbyte)rng.Next(-128, 128);
        for (int i = 0; i < b.Length; i++) b[i] = (sbyte)rng.Next(-128, 128);
        s.Write("A", (byte[])(Array)a);
        s.Write("B", (byte[])(Array)b);
        var r = s.Run();

        // Reference: C = clamp(round_half_even(A·B × 1518500250 / 2^42) + 3).
        var c = s.Read("C");
        int mismatches = 0, saturated = 0;
        for (int i = 0; i < 64; i++)
        {
            for (int j = 0; j < 128; j++)
            {
                long acc = 0;
                for (int k = 0; k < 128; k++) acc += a[i * 128 + k] * b[k * 128 + j];
                var want = Sat8(RoundShift(acc * 1518500250L, 42) + 3);
                saturated += want is 127 or -128 ? 1 : 0;
                mismatches += (sbyte)c[i * 128 + j] != want ? 1 : 0;
            }
        }

        Assert.Equal(0, mismatches);
        Assert.True(saturated < 64 * 128 / 10, "scale chosen so that most outputs do not saturate");
        Assert.Equal(64L * 128 * 128, r.Macs);

        // Analytic schedule from the target file: queues in order, semaphores as the program uses them.
        var t = s.Target;
        long tileLoad = Dma(t, 32 * 32), aLoad = Dma(t, 64 * 128), store = Dma(t, 64 * 32);
        long ldw = 32 * t.WeightLoadCyclesPerRow, mac = 64 + t.MatrixRows + t.MatrixCols - 2, drain = 64 * t.DrainCyclesPerRow;
        var loadEnd = new long[16];
        var ldwEnd = new long[16];
        long lFree = aLoad, mFree = aLoad + 1, sFree = 0;   // qcfg waits for A, takes 1 cycle
        for (int blk = 0; blk < 4; blk++)
        {
            for (int j = 0; j < 4; j++)
            {
                int i = blk * 4 + j;
                // Loads run ahead: tile i waits for the "buffer free" token of ldw i-2 (two posted up front).
                loadEnd[i] = Math.Max(lFree, i < 2 ? 0 : ldwEnd[i - 2]) + tileLoad;
                lFree = loadEnd[i];
                // The matrix queue can only reach ldw i after finishing tile i-1; loads of later tiles wait on it,
                // so compute loads lazily: they depend only on earlier ldw ends, which are already known here.
                ldwEnd[i] = Math.Max(mFree, loadEnd[i]) + ldw;
                mFree = ldwEnd[i] + mac;
            }

            mFree += drain;
            sFree = Math.Max(sFree, mFree) + store;
        }

        Assert.Equal(sFree, r.Cycles);
        Assert.Equal(64L * 128 + 128 * 128, r.DramRead);
        Assert.Equal(64L * 128, r.DramWritten);
    }

    [Fact]
    public void SoftmaxRowMatchesDoubleReferenceAndCycles()
    {
        var s = Load("softmax.s");
        var rng = new Random(7);
        var x = new float[256];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 16 - 8);
        var bytes = new byte[1024];
        for (int i = 0; i < 256; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), x[i]);
        s.Write("x", bytes);
        var r = s.Run();

        double max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        var y = s.Read("y");
        double total = 0;
        for (int i = 0; i < 256; i++)
        {
            float got = BinaryPrimitives.ReadSingleLittleEndian(y.AsSpan(4 * i));
            double want = e[i] / sum;
            Assert.True(Math.Abs(got - want) <= 2e-6 * want + 1e-12, $"y[{i}] = {got}, want {want}");
            total += got;
        }

        Assert.Equal(1.0, total, 5);

        var t = s.Target;
        long chunks = 256 / t.VectorLanes, st = t.VectorStartupCycles, simple = t.VectorSimpleOpCycles, tr = t.VectorTranscendentalOpCycles;
        long log2Lanes = (long)Math.Log2(t.VectorLanes);
        long cycles = Dma(t, 1024)
            + (st + chunks * simple + log2Lanes)   // rmax
            + (st + chunks * simple)               // sub
            + (st + chunks * tr)                   // exp
            + (st + chunks * simple + log2Lanes)   // rsum
            + (st + 1 * tr)                        // recip of one element
            + (st + chunks * simple)               // mul
            + Dma(t, 1024);
        Assert.Equal(cycles, r.Cycles);
    }

    [Fact]
    public void RequantizeChainAndInt4UnpackAreBitExact()
    {
        var s = Load("requant.s");
        var rng = new Random(11);
        var acc = new int[64];
        for (int i = 0; i < 64; i++) acc[i] = rng.Next(-(1 << 14), 1 << 14);
        acc[0] = 1 << 20;          // saturates high
        acc[1] = -(1 << 20);       // saturates low
        var accBytes = new byte[256];
        for (int i = 0; i < 64; i++) BinaryPrimitives.WriteInt32LittleEndian(accBytes.AsSpan(4 * i), acc[i]);
        var w = new int[64];
        var w4 = new byte[32];
        for (int i = 0; i < 64; i++)
        {
            w[i] = rng.Next(-8, 8);
            w4[i / 2] |= (byte)((w[i] & 15) << (4 * (i % 2)));
        }

        s.Write("acc", accBytes);
        s.Write("w4", w4);
        var r = s.Run();

        var q2 = s.Read("q2");
        var f = s.Read("f");
        for (int i = 0; i < 64; i++)
        {
            var q1 = Sat8(RoundShift(acc[i] * 1690421584L, 37) - 5);
            var want = Sat8(RoundShift((q1 + 5) * 1503238554L, 31) + 10);
            Assert.Equal(want, (sbyte)q2[i]);
            Assert.Equal((float)want, BinaryPrimitives.ReadSingleLittleEndian(f.AsSpan(4 * i)));
        }

        Assert.Equal(-128 + 0, Sat8(RoundShift(acc[1] * 1690421584L, 37) - 5));
        Assert.Equal(w.Select(v => (byte)(sbyte)v).ToArray(), s.Read("w8"));

        var t = s.Target;
        long v = t.VectorStartupCycles + t.VectorSimpleOpCycles;      // one 64-lane chunk
        long vecEnd = Dma(t, 256) + 1 + v + 1 + v + v;                  // qcfg waits for the load
        long want2 = vecEnd + Dma(t, 64) + Dma(t, 256) + Dma(t, 64);   // the store queue waits for cvt, then runs three stores
        Assert.Equal(want2, r.Cycles);
    }

    [Fact]
    public void RoundHalfEvenTiesGoToEven()
    {
        // 5 × 2^31 / 2^32 = 2.5 -> 2; 7 × 2^31 / 2^32 = 3.5 -> 4; -5 × ... = -2.5 -> -2.
        Assert.Equal(2, Tessera.Npu.Simulator.Numerics.Requantize(5, 1 << 30, 31, 0, 0));
        Assert.Equal(4, Tessera.Npu.Simulator.Numerics.Requantize(7, 1 << 30, 31, 0, 0));
        Assert.Equal(-2, Tessera.Npu.Simulator.Numerics.Requantize(-5, 1 << 30, 31, 0, 0));
        Assert.Equal(127, Tessera.Npu.Simulator.Numerics.Requantize(1000, 1 << 30, 30, 0, 0));
    }

    [Fact]
    public void MissingSyncIsAHazardNamingBothInstructions()
    {
        // Drop the first "tile loaded" wait: the weight load reads the ping buffer while its DMA may still be writing it.
        var s = Load("gemm.s", text => ReplaceFirst(text, "mm.ldw src=0x2000 k=32 n=32 wait=1 signal=2", "mm.ldw src=0x2000 k=32 n=32 signal=2"));
        var e = Assert.Throws<DiagnosticException>(() => s.Run());
        Assert.Equal("TSR0832", e.Diagnostic.Code);
        var m = e.Diagnostic.Message;
        Assert.True(m.Contains("`mm.ldw src=0x2000 k=32 n=32 signal=2` (pc 11, matrix queue) reads SRAM 0x2000", StringComparison.Ordinal), m);
        Assert.True(m.Contains("`dma.load desc=1 sram=0x2000 dram=r1 wait=2 signal=1` (pc 8, load queue)", StringComparison.Ordinal), m);
    }

    [Fact]
    public void OverwritingABufferStillBeingReadIsAHazard()
    {
        // Without the "buffer free" wait the third tile load overwrites ping while mm.ldw may still read it.
        var s = Load("gemm.s", text => text.Replace("sem.post sem=2 count=2", "sem.post sem=2 count=31"));
        var e = Assert.Throws<DiagnosticException>(() => s.Run());
        Assert.Equal("TSR0832", e.Diagnostic.Code);
        Assert.Contains("dma.load desc=1 sram=0x2000", e.Diagnostic.Message);
        Assert.Contains("mm.ldw src=0x2000", e.Diagnostic.Message);
    }

    [Fact]
    public void OutOfBoundsSramAccessIsCaught()
    {
        var s = Load("softmax.s", text => text.Replace("v.exp dst=0x400 a=0x400 n=256", "v.exp dst=0x1ffffc a=0x400 n=256"));
        var e = Assert.Throws<DiagnosticException>(() => s.Run());
        Assert.Equal("TSR0831", e.Diagnostic.Code);
        Assert.Contains("SRAM access [0x1ffffc, 0x2003fc)", e.Diagnostic.Message);
    }

    private static string ReplaceFirst(string text, string what, string with)
    {
        int i = text.IndexOf(what, StringComparison.Ordinal);
        Assert.True(i >= 0);
        return text[..i] + with + text[(i + what.Length)..];
    }
}
