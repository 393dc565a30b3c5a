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
    [InlineData("add", Broadcast.Full, 300, 896, "f16")]
    [InlineData("sub", Broadcast.Row, 301, 100, "f16")]
    [InlineData("mul", Broadcast.Column, 7, 130, "f16")]
    [InlineData("max", Broadcast.Scalar, 5, 64, "f16")]
    [InlineData("min", Broadcast.Full, 33, 65, "bf16")]
    [InlineData("add", Broadcast.Row, 3, 1, "f16")]
    [InlineData("sub", Broadcast.Column, 129, 3, "bf16")]
    public void Binary(string op, Broadcast kind, int rows, int cols, string type)
    {
        var a = Random(rows * cols, 1, -4, 4, type);
        int bLen = kind switch { Broadcast.Full => rows * cols, Broadcast.Row => cols, Broadcast.Column => rows, _ => 1 };
        var b = Random(bLen, 2, -4, 4, type);
        var (y, res, _) = Run(Config("e1"), type, [a, b], rows * cols, (pb, ad, dst) => VectorKernels.Binary(pb, op, rows, cols, ad[0], ad[1], kind, dst, type));
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double p = a[(r * cols) + c], q = b[kind switch { Broadcast.Full => (r * cols) + c, Broadcast.Row => c, Broadcast.Column => r, _ => 0 }];
                want[(r * cols) + c] = op switch { "add" => p + q, "sub" => p - q, "mul" => p * q, "max" => Math.Max(p, q), _ => Math.Min(p, q) };
            }
        }

        // The reference rounds once to the element type, as the kernel does (fp32 add/mul of two f16 values is exact or
        // within half an fp32 ulp).
        Compare(y, want.Select(v => Round(v, type)).ToArray(), type, $"{op} {kind}");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    private static double Gelu(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));

    [Theory]
    [InlineData("silu", 37, 100, "f16")]
    [InlineData("silu", 300, 896, "f16")]
    [InlineData("gelu", 37, 100, "f16")]
    [InlineData("gelu", 20, 70, "bf16")]
    [InlineData("exp", 37, 100, "f16")]
    [InlineData("neg", 37, 100, "f16")]
    [InlineData("copy", 37, 100, "bf16")]
    [InlineData("sigmoid", 37, 100, "f16")]
    [InlineData("tanh", 37, 100, "f16")]
    [InlineData("relu", 11, 1, "f16")]
    public void Unary(string op, int rows, int cols, string type)
    {
        var a = Random(rows * cols, 3, -4, 4, type);
        var (y, res, _) = Run(Config("e1"), type, [a], rows * cols, (pb, ad, dst) => VectorKernels.Unary(pb, op, rows, cols, ad[0], dst, type));
        var want = a.Select(x => op switch
        {
            "silu" => x / (1 + Math.Exp(-x)),
            "gelu" => Gelu(x),
            "exp" => Math.Exp(x),
            "neg" => -x,
            "copy" => x,
            "sigmoid" => 1 / (1 + Math.Exp(-x)),
            "tanh" => Math.Tanh(x),
            _ => Math.Max(x, 0),
        }).ToArray();
        Compare(y, want, type, op);
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    [Theory]
    [InlineData(300, 896, "f16")]
    [InlineData(5, 1, "f16")]
    [InlineData(17, 33, "bf16")]
    [InlineData(3, 70000, "f16")]   // a row longer than one vector instruction's n (u16) and one DMA dimension
    public void Softmax(int rows, int cols, string type)
    {
        var a = Random(rows * cols, 4, -8, 8, type);
        var (y, res, _) = Run(Config("e1"), type, [a], rows * cols, (pb, ad, dst) => VectorKernels.Softmax(pb, rows, cols, ad[0], dst, type));
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var row = a.Skip(r * cols).Take(cols).ToArray();
            double m = row.Max(), sum = row.Sum(v => Math.Exp(v - m));
            for (int c = 0; c < cols; c++)
            {
                want[(r * cols) + c] = Math.Exp(row[c] - m) / sum;
            }
        }

        Compare(y, want, type, "softmax");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    [Theory]
    [InlineData(300, 896, "f16")]
    [InlineData(9, 100, "bf16")]
    [InlineData(1, 1, "f16")]
    public void RmsNorm(int rows, int cols, string type)
    {
        var x = Random(rows * cols, 5, -3, 3, type);
        var w = Random(cols, 6, 0.5, 1.5, type);
        const float eps = 1e-5f;
        var (y, res, _) = Run(Config("e1"), type, [x, w], rows * cols, (pb, ad, dst) => VectorKernels.RmsNorm(pb, rows, cols, ad[0], ad[1], eps, dst, type));
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int c = 0; c < cols; c++)
            {
                ms += x[(r * cols) + c] * x[(r * cols) + c];
            }

            double inv = 1 / Math.Sqrt((ms / cols) + eps);
            for (int c = 0; c < cols; c++)
            {
                want[(r * cols) + c] = x[(r * cols) + c] * inv * w[c];
            }
        }

        Compare(y, want, type, "rms-norm");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

    [Theory]
    [InlineData(301, 896, true, "f16")]
    [InlineData(10, 64, false, "f16")]
    [InlineData(13, 200, true, "bf16")]
    public void LayerNorm(int rows, int cols, bool withBias, string type)
    {
        var x = Random(rows * cols, 7, -3, 5, type);
        var w = Random(cols, 8, 0.5, 1.5, type);
        var bias = Random(cols, 9, -1, 1, type);
        const float eps = 1e-5f;
        var (y, res, _) = Run(Config("e1"), type, withBias ? [x, w, bias] : [x, w], rows * cols,
            (pb, ad, dst) => VectorKernels.LayerNorm(pb, rows, cols, ad[0], ad[1], withBias ? ad[2] : -1, eps, dst, type));
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Skip(r * cols).Take(cols).ToArray();
            double mean = row.Average(), var = row.Sum(v => (v - mean) * (v - mean)) / cols, inv = 1 / Math.Sqrt(var + eps);
            for (int c = 0; c < cols; c++)
            {
                want[(r * cols) + c] = ((row[c] - mean) * inv * w[c]) + (withBias ? bias[c] : 0);
            }
        }

        Compare(y, want, type, "layer-norm");
        if (rows >= 300)
        {
            AssertOverlap(res);
        }
    }

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
    public void MulSilu()
    {
        const int rows = 300, cols = 896;
        var a = Random(rows * cols, 11, -4, 4, "f16");
        var b = Random(rows * cols, 12, -4, 4, "f16");
        var (y, res, _) = Run(Config("e1"), "f16", [a, b], rows * cols, (pb, ad, dst) => VectorKernels.MulSilu(pb, rows, cols, ad[0], ad[1], dst, "f16"));
        Compare(y, a.Zip(b, (p, q) => p / (1 + Math.Exp(-p)) * q).ToArray(), "f16", "silu-mul");
        AssertOverlap(res);
    }

    [Fact]
    public void BlockRowsFollowTheTarget()
    {
        var e1 = Config("e1");
        var large = Config("edge-large");
        // Many rows: the block is bounded by SRAM, which edge-large has 12× more of.
        int small = VectorKernels.BlockRows(e1, 100_000, 896, 1), big = VectorKernels.BlockRows(large, 100_000, 896, 1);
        Assert.True(big > 8 * small, $"e1 {small} rows, edge-large {big}");
        // Per row: 2 slots × 2 bytes in, 2 × 2 out, 4 fp32 → 12 bytes per element; a second input adds 8 per element.
        Assert.InRange(small, (2_097_152 - 4096) / (896 * 12), 2_097_152 / (896 * 12));
        Assert.True(VectorKernels.BlockRows(e1, 100_000, 896, 2) < small);
        output.WriteLine($"block rows for 896 columns: e1 {small}, edge-large {big}");

        // The kernel uses that size: one store per block.
        const int rows = 600, cols = 896;
        var a = Random(rows * cols, 13, -4, 4, "f16");
        foreach (var t in new[] { e1, large })
        {
            int rb = VectorKernels.BlockRows(t, rows, cols, 1);
            var (y, _, pb) = Run(t, "f16", [a], rows * cols, (p, ad, dst) => VectorKernels.Unary(p, "silu", rows, cols, ad[0], dst, "f16"));
            Compare(y, a.Select(x => x / (1 + Math.Exp(-x))).ToArray(), "f16", t.Name);
            int stores = pb.Text().Split('\n').Count(l => l.StartsWith("dma.store", StringComparison.Ordinal));
            Assert.Equal((rows + rb - 1) / rb, stores);
        }

        // Softmax on edge-large, rows not a multiple of the block.
        var s = Random(1001 * 300, 14, -8, 8, "f16");
        var (ys, _, _) = Run(large, "f16", [s], s.Length, (p, ad, dst) => VectorKernels.Softmax(p, 1001, 300, ad[0], dst, "f16"));
        var want = new double[s.Length];
        for (int r = 0; r < 1001; r++)
        {
            var row = s.Skip(r * 300).Take(300).ToArray();
            double m = row.Max(), sum = row.Sum(v => Math.Exp(v - m));
            for (int c = 0; c < 300; c++)
            {
                want[(r * 300) + c] = Math.Exp(row[c] - m) / sum;
            }
        }

        Compare(ys, want, "f16", "softmax on edge-large");
    }

    [Fact]
    public void TwoKernelsInOneProgramAndInPlace()
    {
        // An in-place RMS norm (dst = x) and a silu-mul, each its own entry point of one program sharing descriptors;
        // each entry runs from a fresh start (no tokens, registers zero), as a runner starts every kernel.
        const int rows = 130, cols = 96;
        var t = Config("e1");
        var x = Random(rows * cols, 15, -3, 3, "f16");
        var w = Random(cols, 16, 0.5, 1.5, "f16");
        var g = Random(rows * cols, 17, -4, 4, "f16");
        long xAddr = 0x1000, wAddr = 0x10000, gAddr = 0x20000, dstAddr = 0x30000;
        var pb = new ProgramBuilder(t) { ConstantBase = 0x40000 };
        pb.Entry("norm");
        VectorKernels.RmsNorm(pb, rows, cols, xAddr, wAddr, 1e-6f, xAddr, "f16");
        pb.Line("end");
        int normDescs = pb.DescriptorCount;
        pb.Entry("gate");
        VectorKernels.MulSilu(pb, rows, cols, xAddr, gAddr, dstAddr, "f16");
        pb.Line("end");
        Assert.True(pb.DescriptorCount < 2 * normDescs, "the second kernel reuses the first one's row descriptors");
        var program = NpuIR.Checked(pb);

        var norm = new Session(program, t, "norm");
        norm.Simulator.Machine.Dram.Write(xAddr, Bits(x, "f16"), "x");
        norm.Simulator.Machine.Dram.Write(wAddr, Bits(w, "f16"), "w");
        norm.Simulator.Machine.Dram.Write(pb.ConstantBase, pb.ConstantPool, "pool");
        norm.Run();
        var normed = Values(norm.Simulator.Machine.Dram.Read(xAddr, 2 * rows * cols, "x"), "f16");
        var want = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double ms = Enumerable.Range(0, cols).Sum(c => x[(r * cols) + c] * x[(r * cols) + c]) / cols;
            for (int c = 0; c < cols; c++)
            {
                want[(r * cols) + c] = x[(r * cols) + c] / Math.Sqrt(ms + 1e-6) * w[c];
            }
        }

        Compare(normed, want, "f16", "in-place rms-norm");

        var gate = new Session(program, t, "gate");
        gate.Simulator.Machine.Dram.Write(xAddr, Bits(normed, "f16"), "x");
        gate.Simulator.Machine.Dram.Write(gAddr, Bits(g, "f16"), "g");
        gate.Run();
        var y = Values(gate.Simulator.Machine.Dram.Read(dstAddr, 2 * rows * cols, "y"), "f16");
        Compare(y, normed.Zip(g, (p, q) => p / (1 + Math.Exp(-p)) * q).ToArray(), "f16", "silu-mul after norm");
    }

    [Fact]
    public void UnsupportedShapesAreDiagnosed()
    {
        var pb = new ProgramBuilder(Config("e1"));
        pb.Entry("main");
        // 200000 fp32 + 4 raw copies per element = 2.4 MB for one row; e1 has 2 MiB of SRAM.
        var e = Assert.Throws<DiagnosticException>(() => VectorKernels.Softmax(pb, 4, 200_000, 0, 0x100000, "f16"));
        Assert.Equal("TSR0841", e.Diagnostic.Code);
        Assert.Contains("bytes of SRAM", e.Diagnostic.Message);
        Assert.Equal("TSR0841", Assert.Throws<DiagnosticException>(() => VectorKernels.Unary(pb, "exp", 4, 4, 0, 64, "f32")).Diagnostic.Code);
        Assert.Equal("TSR0841", Assert.Throws<DiagnosticException>(() => VectorKernels.Unary(pb, "log", 4, 4, 0, 64, "f16")).Diagnostic.Code);
        Assert.Equal("TSR0841", Assert.Throws<DiagnosticException>(() => VectorKernels.Rope(pb, 4, 2, 7, 0, 64, 128, 256, "f16")).Diagnostic.Code);
        Assert.Equal("TSR0841", Assert.Throws<DiagnosticException>(() => VectorKernels.Binary(pb, "add", 0, 4, 0, 64, Broadcast.Full, 128, "f16")).Diagnostic.Code);
    }
}
