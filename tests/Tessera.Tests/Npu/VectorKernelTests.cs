using static Tessera.Tests.Npu.NpuTestUtil;
using Tessera.IR;
using Tessera.Npu.Lowering;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using Xunit.Abstractions;

namespace Tessera.Tests.Npu;

/// <summary>
/// The vector kernels (targets/Npu/Lowering/VectorKernels*.cs), each run in the simulator on random f16/bf16 inputs (fixed
/// seeds) and compared with a double-precision reference written here. The simulator stops on any hazard, deadlock or
/// out-of-bounds access, so a run that finishes had none.
/// <para>Tolerance per element: |npu − ref| ≤ 2·ulp_T(|ref|) + 1e-5, T the element type. The kernel computes in fp32
/// (relative error a few 2^-24 per step, exp within 2 fp32 ulp) and rounds once to T (half an ulp); 2 ulp covers both
/// with room. The absolute 1e-5 covers outputs that cancel to near zero (x − mean, x·cos − x'·sin, a − b), where the fp32
/// error is relative to the operands (|operands| ≤ ~10 here, 10·2^-24·few ≪ 1e-5), not to the tiny result.</para>
/// </summary>
public class VectorKernelTests(ITestOutputHelper output)
{
    private static double[] Random(int count, int seed, double lo, double hi, string t)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Round(lo + (rng.NextDouble() * (hi - lo)), t)).ToArray();
    }

    /// <summary>Lays the inputs out in DRAM (64-byte aligned), then the output, then the constant pool; emits one kernel,
    /// runs it and returns the output.</summary>
    private (double[] Y, SimResult Result, ProgramBuilder Pb) Run(NpuTarget target, string type, double[][] inputs, int outCount,
        Action<ProgramBuilder, long[], long> emit)
    {
        long top = 0x100;
        long Take(long bytes)
        {
            long at = top;
            top = (top + bytes + 63) & ~63L;
            return at;
        }

        var addrs = inputs.Select(x => Take(2L * x.Length)).ToArray();
        long dst = Take(2L * outCount);
        var pb = new ProgramBuilder(target) { ConstantBase = Take(0) };
        pb.Entry("main");
        emit(pb, addrs, dst);
        pb.Line("end");
        var session = new Session(NpuIR.Checked(pb), target);
        var dram = session.Simulator.Machine.Dram;
        for (int i = 0; i < inputs.Length; i++)
        {
            dram.Write(addrs[i], Bits(inputs[i], type), $"in{i}");
        }

        dram.Write(pb.ConstantBase, pb.ConstantPool, "pool");
        var result = session.Run();   // throws on a hazard, deadlock or out-of-bounds access
        var y = Values(dram.Read(dst, 2 * outCount, "out"), type);

        // Every input byte is read at least once, so the run cannot be shorter than the load queue's transfer time.
        double bytesPerCycle = (double)(target.DmaBandwidthGBps / target.ClockGHz);
        long inputBytes = inputs.Sum(x => 2L * x.Length);
        Assert.True(result.DramRead >= inputBytes, $"read {result.DramRead} bytes, inputs have {inputBytes}");
        Assert.Equal(2L * outCount, result.DramWritten);
        Assert.True(result.Cycles >= result.DramRead / bytesPerCycle, $"{result.Cycles} cycles for {result.DramRead} bytes read");
        output.WriteLine($"{target.Name}: {result.Cycles} cycles, busy load/matrix/vector/store {string.Join('/', result.Busy)}, read {result.DramRead} B");
        return (y, result, pb);
    }

    private static void Compare(double[] got, double[] want, string type, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            double tol = (2 * Ulp(want[i], type)) + 1e-5;
            Assert.True(Math.Abs(got[i] - want[i]) <= tol, $"{what}: element {i} = {got[i]}, reference {want[i]}, tolerance {tol}");
        }
    }

    /// <summary>More than one block, and the queues overlapped: the run is shorter than the sum of busy times.</summary>
    private static void AssertOverlap(SimResult r) =>
        Assert.True(r.Cycles < r.Busy.Sum(), $"{r.Cycles} cycles is not less than the busy sum {r.Busy.Sum()}: no overlap");

    [Theory]
    [InlineData(300, 7, 128, "f16", "e1")]
    [InlineData(5, 3, 10, "f16", "e1")]
    [InlineData(40, 2, 64, "bf16", "e1")]
    [InlineData(3, 40000, 2, "f16", "edge-large")]   // so many heads that a block is limited by the DMA's 65535 (row, head) pairs
    public void Rope(int rows, int heads, int headDim, string type, string config)
    {
        int width = heads * headDim, half = headDim / 2;
        var x = Random(rows * width, 10, -3, 3, type);
        var angle = Enumerable.Range(0, rows * headDim).Select(i => (i / headDim) * Math.Pow(10000, -2.0 * (i % half) / headDim)).ToArray();
        var cos = angle.Select(v => Round(Math.Cos(v), type)).ToArray();
        var sin = angle.Select(v => Round(Math.Sin(v), type)).ToArray();
        var (y, res, _) = Run(Config(config), type, [x, cos, sin], rows * width,
            (pb, ad, dst) => VectorKernels.Rope(pb, rows, heads, headDim, ad[0], ad[1], ad[2], dst, type));
        var want = new double[rows * width];
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                int b = (r * width) + (h * headDim);
                for (int j = 0; j < headDim; j++)
                {
                    double rot = j < half ? -x[b + j + half] : x[b + j - half];
                    want[b + j] = (x[b + j] * cos[(r * headDim) + j]) + (rot * sin[(r * headDim) + j]);
                }
            }
        }

        Compare(y, want, type, "rope");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    [Fact]
    public void UnsupportedShapesAreDiagnosed()
    {
        var pb = new ProgramBuilder(Config("e1"));
        pb.Entry("main");
        Assert.Equal("TSR0841", Assert.Throws<DiagnosticException>(() => VectorKernels.Rope(pb, 4, 2, 7, 0, 64, 128, 256, "f16")).Diagnostic.Code);
        Assert.Equal("TSR0841", Assert.Throws<DiagnosticException>(() => VectorKernels.Rope(pb, 4, 2, 8, 0, 64, 128, 256, "f32")).Diagnostic.Code);
    }
}
