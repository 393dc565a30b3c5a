using static Tessera.Tests.Npu.NpuTestUtil;
using Tessera.Npu.Lowering;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using Xunit.Abstractions;

namespace Tessera.Tests.Npu;

/// <summary>
/// Flash attention (graph.sdpa through npu-attention-to-tile) against an independent double-precision softmax(scale·QKᵀ + mask)·V written here, on the
/// f16/bf16-rounded inputs. The simulator stops on any hazard, deadlock or out-of-bounds access, so a finished run has none.
/// Tolerance per element: f16: |npu − ref| ≤ 2e-3 + 1e-2·|ref|; bf16: 1e-2 + 2e-2·|ref|. The kernel rounds twice where the
/// reference does not: P to the element type before P·V (relative 2^-11 for f16, 2^-8 for bf16 per weight) and O to the
/// element type at the end (half an ulp: 2^-11 / 2^-8 relative); everything else is fp32 (exp within 2 ulp), far below that.
/// </summary>
public class AttentionTests(ITestOutputHelper output)
{
    private static ushort Bits(double v, string t) => t == "f16" ? Numerics.F32ToF16((float)v) : Numerics.F32ToBf16((float)v);

    private static double Value(ushort b, string t) => t == "f16" ? Numerics.F16ToF32(b) : Numerics.Bf16ToF32(b);

    private static byte[] Bytes(ushort[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>Reference output [S, Hq, D] in double: query head h reads kv head h / (Hq/Hkv); with causal masking query i sees
    /// key j iff j ≤ qOffset + i; <paramref name="add"/>(h, i, j) is added to the score (−inf hides the key).</summary>
    private static double[] Reference(AttentionShape s, double[] q, double[] k, double[] v, Func<int, int, int, double> add)
    {
        int g = s.Hq / s.Hkv;
        double scale = s.Scale is { } given ? given : 1.0 / Math.Sqrt(s.D);
        var o = new double[s.S * s.Hq * s.D];
        var w = new double[s.T];
        for (int h = 0; h < s.Hq; h++)
        {
            int kh = h / g;
            for (int i = 0; i < s.S; i++)
            {
                int visible = s.Causal ? Math.Min(s.T, s.QOffset + i + 1) : s.T;
                double max = double.NegativeInfinity;
                for (int j = 0; j < visible; j++)
                {
                    if (double.IsNegativeInfinity(add(h, i, j)))
                    {
                        w[j] = double.NegativeInfinity;
                        continue;
                    }

                    double dot = 0;
                    for (int d = 0; d < s.D; d++)
                    {
                        dot += q[(((h * s.S) + i) * s.D) + d] * k[(((kh * s.T) + j) * s.D) + d];
                    }

                    w[j] = (dot * scale) + add(h, i, j);
                    max = Math.Max(max, w[j]);
                }

                double sum = 0;
                for (int j = 0; j < visible; j++)
                {
                    w[j] = Math.Exp(w[j] - max);
                    sum += w[j];
                }

                for (int d = 0; d < s.D; d++)
                {
                    double acc = 0;
                    for (int j = 0; j < visible; j++)
                    {
                        acc += w[j] * v[(((kh * s.T) + j) * s.D) + d];
                    }

                    o[(((i * s.Hq) + h) * s.D) + d] = acc / sum;
                }
            }
        }

        return o;
    }

    /// <summary>Compiles a graph.sdpa of shape <paramref name="s"/> (causal: is_causal, so QOffset must be T − S) through
    /// npu-partition, npu-attention-to-tile and npu-lower, simulates and compares; returns simulated cycles, the floor
    /// max(useful MACs ÷ (rows·cols ÷ floatRateDivisor), DRAM bytes ÷ (bandwidth ÷ clock)) and the tiles.
    /// <paramref name="tiles"/> overrides the cost model's blocks through the op's <c>npu.attention_tiles</c>.
    /// <paramref name="mask"/>(h, i, j) gives <see cref="AttentionShape.Mask"/>'s element at (head, position, key) of its own
    /// [Heads, Rows, T] tensor: 0 or −inf for a bool mask (true or false), any value for a float one (rounded to its type here).</summary>
    private (long Cycles, double Floor, AttentionTiles Tiles) Run(AttentionShape s, string config = "e1", string type = "f16", int seed = 1, AttentionTiles? tiles = null,
        Func<int, int, int, double>? mask = null)
    {
        Assert.True(!s.Causal || s.QOffset == s.T - s.S, "a graph's causal attention puts query i at T − S + i");
        var t = Config(config);
        var rng = new Random(seed);
        ushort[] Rand(int n) => Enumerable.Range(0, n).Select(_ => Bits((rng.NextDouble() * 2) - 1, type)).ToArray();
        ushort[] qb = Rand(s.Hq * s.S * s.D), kb = Rand(s.Hkv * s.T * s.D), vb = Rand(s.Hkv * s.T * s.D);

        var mk = s.Mask;
        byte[] maskBytes = [];
        Func<int, int, int, double> add = (_, _, _) => 0;
        if (mk is not null)
        {
            Assert.NotNull(mask);
            var m = new double[mk.Heads * mk.Rows * s.T];
            for (int x = 0; x < m.Length; x++)
            {
                double val = mask(x / (mk.Rows * s.T), x / s.T % mk.Rows, x % s.T);
                m[x] = mk.Type == "bool" ? val : Value(Bits(val, mk.Type), mk.Type);
            }

            maskBytes = mk.Type == "bool" ? m.Select(x => (byte)(x == 0 ? 1 : 0)).ToArray() : Bytes(m.Select(x => Bits(x, mk.Type)).ToArray());
            add = (h, i, j) => m[((((mk.Heads > 1 ? h : 0) * mk.Rows) + (mk.Rows > 1 ? i : 0)) * s.T) + j];
        }

        string qt = $"tensor<1x{s.Hq}x{s.S}x{s.D}x{type}>", kt = $"tensor<1x{s.Hkv}x{s.T}x{s.D}x{type}>";
        string mt = mk is null ? "" : $"tensor<{mk.Heads}x{mk.Rows}x{s.T}x{(mk.Type == "bool" ? "i1" : mk.Type)}>";
        string attrs = $"is_causal = {(s.Causal ? 1 : 0)}" + (s.Scale is { } sc ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $", scale = {sc:R} : f32") : "");
        string tir = $"func.func @f(%q: {qt}, %k: {kt}, %v: {kt}{(mk is null ? "" : $", %m: {mt}")}) -> {qt} {{\n"
            + $"  %o = graph.sdpa(%q, %k, %v{(mk is null ? "" : ", %m")}) {{{attrs}}} : ({qt}, {kt}, {kt}{(mk is null ? "" : $", {mt}")}) -> {qt}\n  func.return(%o) : {qt}\n}}\n";
        var (ctx, module) = Tessera.Tests.Passes.PassTestUtil.Parse(tir);
        var diags = new Tessera.IR.DiagnosticBag();
        var pm = Tessera.IR.Passes.PassManager.Parse(ctx, Tessera.Passes.DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags);
        Assert.True(pm is not null && pm.Run(module, diags).Succeeded, diags.Render());
        var op = module.Walk().Single(o => o.Name == "graph.sdpa");
        Assert.Equal("npu", (op.GetAttr(Tessera.Passes.Npu.NpuPlacement.PlaceAttr) as Tessera.IR.StringAttr)?.Value);
        var shape = Tessera.Passes.Npu.NpuKernels.Attention(op)!;
        var tl = tiles ?? AttentionPlan.Tiles(t, shape);
        if (tiles is not null)
        {
            op.SetAttr("npu.attention_tiles", Tessera.IR.ArrayAttr.OfInts([tl.HeadsPerBlock, tl.RowsPerHead, tl.Bc]));
        }

        var bundle = NpuIR.Lower(ctx, module, "f", config).Bundle;
        Assert.Single(bundle.Steps);
        var session = new BundleSession(bundle);
        var ins = bundle.Program.Tensors.Where(x => x.Role == "input").ToList();
        session.Write(ins[0].Name, Bytes(qb));
        session.Write(ins[1].Name, Bytes(kb));
        session.Write(ins[2].Name, Bytes(vb));
        if (mk is not null)
        {
            session.Write(ins[3].Name, maskBytes);
        }

        var result = session.Run(null).Total;   // throws on a hazard, deadlock or out-of-bounds access
        var got = session.Read(bundle.Program.Tensors.Single(x => x.Role == "output").Name);
        var expect = Reference(s, qb.Select(x => Value(x, type)).ToArray(), kb.Select(x => Value(x, type)).ToArray(), vb.Select(x => Value(x, type)).ToArray(), add);
        double abs = type == "f16" ? 2e-3 : 1e-2, rel = type == "f16" ? 1e-2 : 2e-2, worst = 0;
        for (int i = 0; i < expect.Length; i++)
        {
            // The reference is [S, Hq, D]; the op's result [1, Hq, S, D].
            int pos = i / (s.Hq * s.D), head = i / s.D % s.Hq, at = (((head * s.S) + pos) * s.D) + (i % s.D);
            double g = Value(BitConverter.ToUInt16(got, 2 * at), type), r = expect[i], tol = abs + (rel * Math.Abs(r));
            Assert.True(Math.Abs(g - r) <= tol, $"o[{i / (s.Hq * s.D)}, {i / s.D % s.Hq}, {i % s.D}] = {g}, reference {r}, tolerance {tol}");
            worst = Math.Max(worst, Math.Abs(g - r) / tol);
        }

        // Useful pairs: (head, query, key) triples the masks leave visible.
        long useful = 0;
        for (int h = 0; h < s.Hq; h++)
        {
            for (int i = 0; i < s.S; i++)
            {
                for (int j = 0; j < (s.Causal ? Math.Min(s.T, s.QOffset + i + 1) : s.T); j++)
                {
                    useful += double.IsNegativeInfinity(add(h, i, j)) ? 0 : 1;
                }
            }
        }

        double macs = 2.0 * useful * s.D;
        double bytes = 2.0 * ((2.0 * s.Hq * s.S * s.D) + (2.0 * s.Hkv * s.T * s.D));
        double macRate = (double)t.MatrixRows * t.MatrixCols / t.FloatRateDivisor;
        double floor = Math.Max(macs / macRate, bytes / (double)(t.DmaBandwidthGBps / t.ClockGHz));
        output.WriteLine($"{s} {type} on {config}: tiles Br={tl.Br} ({tl.HeadsPerBlock}x{tl.RowsPerHead}) Bc={tl.Bc}, {result.Cycles} cycles " +
            $"(estimate {tl.EstimatedCycles}), floor {floor:0} (MACs {macs:0} -> {macs / macRate:0}, bytes {bytes:0} -> {bytes / (double)(t.DmaBandwidthGBps / t.ClockGHz):0}), " +
            $"cycles/floor {result.Cycles / floor:0.00}, busy load/matrix/vector/store {string.Join('/', result.Busy)}, worst error/tolerance {worst:0.000}");
        Assert.True(result.Cycles >= floor, $"{result.Cycles} cycles is below the floor {floor}");
        return (result.Cycles, floor, tl);
    }

    [Fact]
    public void CausalPrefillWithGqa() => Run(new AttentionShape(Hq: 4, Hkv: 2, S: 16, T: 16, D: 64, Causal: true));

    [Theory]
    [InlineData("e1")]
    [InlineData("edge-large")]
    public void RaggedCausalPrefill(string config) => Run(new AttentionShape(Hq: 2, Hkv: 1, S: 200, T: 200, D: 64, Causal: true), config, seed: 2);

    [Fact]
    public void DecodeT512()
    {
        var (cycles, floor, _) = Run(new AttentionShape(Hq: 14, Hkv: 2, S: 1, T: 512, D: 64, Causal: true, QOffset: 511), seed: 3);
        Assert.True(cycles < 20 * floor, $"{cycles} cycles against a floor of {floor}");
    }

    [Fact]
    public void PrefillS128Hq14()
    {
        var (cycles, floor, _) = Run(new AttentionShape(Hq: 14, Hkv: 2, S: 128, T: 128, D: 64, Causal: true), seed: 4);
        Assert.True(cycles < 20 * floor, $"{cycles} cycles against a floor of {floor}");
    }

    [Fact]
    public void ChunkedPrefillWithQueryOffset() => Run(new AttentionShape(Hq: 4, Hkv: 1, S: 20, T: 100, D: 64, Causal: true, QOffset: 80), seed: 5);

    [Theory]
    [InlineData("e1")]
    [InlineData("edge-large")]
    public void NonCausalWithRaggedHeadDim(string config) => Run(new AttentionShape(Hq: 3, Hkv: 3, S: 48, T: 300, D: 40), config, seed: 6);

    [Fact]
    public void ExplicitScale() => Run(new AttentionShape(Hq: 2, Hkv: 1, S: 8, T: 40, D: 32, Scale: 0.3f), seed: 7);

    /// <summary>A long context: SRAM use depends on the tiles and D only, so T = 4096 runs with the same buffers.</summary>
    [Fact]
    public void LongContextDecode() => Run(new AttentionShape(Hq: 7, Hkv: 1, S: 1, T: 4096, D: 64, Causal: true, QOffset: 4095), seed: 10);

    [Fact]
    public void Bf16() => Run(new AttentionShape(Hq: 4, Hkv: 1, S: 64, T: 64, D: 64, Causal: true), type: "bf16", seed: 8);

    /// <summary>Small hand-picked blocks force many pipelined steps: several key blocks per row block, a ragged last key block,
    /// stacked heads with a ragged last head group, and masked diagonal blocks crossing head boundaries.</summary>
    [Theory]
    [InlineData(6, 2, 10, 70, true, 60, 2, 10, 32)]
    [InlineData(4, 1, 37, 37, true, 0, 1, 16, 32)]
    [InlineData(4, 2, 37, 90, false, 0, 1, 16, 64)]
    [InlineData(3, 1, 5, 5, true, 0, 2, 5, 32)]
    public void ExplicitSmallTiles(int hq, int hkv, int sq, int tk, bool causal, int qOffset, int nh, int ns, int bc)
    {
        var s = new AttentionShape(hq, hkv, sq, tk, 64, causal, qOffset);
        Run(s, seed: 9, tiles: new AttentionTiles(nh * ns, bc, nh, ns, 0));
    }

    private static readonly double Hidden = double.NegativeInfinity;

    private static AttentionMask BoolMask(int heads = 1, int rows = 1) => new("bool", heads, rows);

    /// <summary>Decode against a 512-slot cache of which only the first 256 are written: the runtime bool mask hides the rest.</summary>
    [Fact]
    public void MaskedDecodeT512HalfCache()
    {
        var s = new AttentionShape(Hq: 14, Hkv: 2, S: 1, T: 512, D: 64, Mask: BoolMask());
        var (cycles, floor, _) = Run(s, seed: 11, mask: (_, _, j) => j < 256 ? 0 : Hidden);
        Assert.True(cycles < 20 * floor, $"{cycles} cycles against a floor of {floor}");
    }

    /// <summary>A different random bool mask per head and query row (GQA: two query heads per kv head), each row keeping at
    /// least one key; the tile holds every row of its block, so the mask is added in one instruction.</summary>
    [Fact]
    public void PerHeadMaskWithGqa()
    {
        var s = new AttentionShape(Hq: 4, Hkv: 2, S: 16, T: 48, D: 64, Mask: BoolMask(4, 16));
        var rng = new Random(12);
        var bits = Enumerable.Range(0, 4 * 16 * 48).Select(_ => rng.Next(3) > 0).ToArray();
        Run(s, seed: 12, mask: (h, i, j) => bits[(((h * 16) + i) * 48) + j] || j == (h + i) % 48 ? 0 : Hidden);
    }

    /// <summary>Small key blocks (32) so the mask hides whole blocks: keys 0..63 (both first blocks: a row's first block all
    /// masked, the online-softmax case) and, for row 2, everything but key 100; combined with causal masking and stacked heads.</summary>
    [Fact]
    public void MaskHidingWholeKeyBlocks()
    {
        var s = new AttentionShape(Hq: 4, Hkv: 1, S: 4, T: 160, D: 64, Causal: true, QOffset: 156, Mask: BoolMask(1, 4));
        Run(s, seed: 13, tiles: new AttentionTiles(8, 32, 2, 4, 0), mask: (_, i, j) => j < 64 || (i == 2 && j != 100) ? Hidden : 0);
    }

    /// <summary>A hidden first block through a float mask in f16 (−inf and finite negative values down to −60000), broadcast
    /// over the two stacked heads of a block, so each block row adds its position's mask row.</summary>
    [Fact]
    public void FloatMaskWithInfinities()
    {
        var s = new AttentionShape(Hq: 2, Hkv: 1, S: 3, T: 96, D: 32, Mask: new AttentionMask("f16", 1, 3));
        Run(s, seed: 14, tiles: new AttentionTiles(6, 32, 2, 3, 0),
            mask: (_, i, j) => j < 32 ? Hidden : j % 7 == i ? -3.5 : j % 5 == 0 ? -60000 : -0.25 * (j % 3));
    }

    /// <summary>A long cache with the runtime mask: the mask buffers are per block, so T = 4096 fits the same SRAM as T = 512.</summary>
    [Fact]
    public void MaskedLongContextDecode()
    {
        var s = new AttentionShape(Hq: 7, Hkv: 1, S: 1, T: 4096, D: 64, Mask: BoolMask());
        var tl = AttentionPlan.Tiles(Config("e1"), s with { T = 512 });
        var (cycles, floor, _) = Run(s, seed: 15, tiles: tl, mask: (_, _, j) => j <= 3000 ? 0 : Hidden);
        Assert.True(cycles < 20 * floor, $"{cycles} cycles against a floor of {floor}");
    }

    [Fact]
    public void MaskedBf16() =>
        Run(new AttentionShape(Hq: 4, Hkv: 1, S: 8, T: 70, D: 64, Mask: BoolMask(4, 8)), type: "bf16", seed: 16,
            tiles: new AttentionTiles(8, 32, 1, 8, 0), mask: (h, i, j) => (j + h + i) % 4 == 0 ? Hidden : 0);

    [Fact]
    public void TilesComeFromTheTargetDescription()
    {
        var s = new AttentionShape(Hq: 14, Hkv: 2, S: 512, T: 512, D: 64, Causal: true);
        var e1 = AttentionPlan.Tiles(Config("e1"), s);
        var large = AttentionPlan.Tiles(Config("edge-large"), s);
        output.WriteLine($"{s}: e1 {e1}, edge-large {large}");
        Assert.NotEqual((e1.Br, e1.Bc), (large.Br, large.Bc));

        // SRAM use does not grow with T: the same tiles serve a context 16 times longer.
        var longer = AttentionPlan.Tiles(Config("e1"), s with { S = 1, T = 8192, QOffset = 8191 });
        output.WriteLine($"decode T=8192 on e1: {longer}");
        Assert.True(longer.Bc <= 8192);
    }

    [Fact]
    public void TooLargeHeadDimIsRejected()
    {
        var s = new AttentionShape(Hq: 1, Hkv: 1, S: 1, T: 64, D: 16384);
        var e = Assert.Throws<Tessera.IR.DiagnosticException>(() => AttentionPlan.Tiles(Config("e1"), s));
        Assert.Equal(Tessera.Npu.NpuCodes.LowerUnsupported, e.Diagnostic.Code);
        Assert.Contains("head dim D=16384", e.Diagnostic.Message);
        output.WriteLine(e.Diagnostic.Message);

        e = Assert.Throws<Tessera.IR.DiagnosticException>(() => AttentionPlan.Tiles(Config("e1"), s with { Hkv = 2, Hq = 3, D = 64 }));
        Assert.Contains("not a multiple", e.Diagnostic.Message);
    }
}
