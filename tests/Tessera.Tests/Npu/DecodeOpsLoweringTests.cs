using System.Globalization;
using Tessera.IR.Passes;
using Tessera.Npu.Simulator;
using Tessera.Passes;
using Tessera.Passes.Npu;
using Tessera.Tests.Passes;
using Xunit.Abstractions;

namespace Tessera.Tests.Npu;

/// <summary>
/// The decode path's ops through npu-partition and the whole-function lowering, with their runtime operands as function
/// inputs: sdpa with a boolean mask and interleaved (pairwise) rope with cos/sin tables that arrive at run time (gathered
/// rows in the GGUF graphs). Each runs in the simulator (a hazard throws) and is compared with double-precision references
/// written here, on the f16 inputs. Tolerances: rope 2·ulp_f16(|ref|) + 1e-5 (fp32 arithmetic, one rounding to f16; the
/// absolute term covers cancellation); attention 2e-3 + 1e-2·|ref| (as in AttentionTests).
/// </summary>
public class DecodeOpsLoweringTests(ITestOutputHelper output)
{
    private static double[] Rand(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (double)(Half)((rng.NextDouble() * 2) - 1)).ToArray();

    private static byte[] F16(double[] v) => v.SelectMany(x => BitConverter.GetBytes((Half)x)).ToArray();

    private static double At(byte[] b, int i) => (double)BitConverter.ToHalf(b, 2 * i);

    private static double Ulp(double v) => Math.Pow(2, Math.Floor(Math.Log2(Math.Max(Math.Abs(v), Math.Pow(2, -14)))) - 10);

    /// <summary>Partitions and lowers @f of <paramref name="text"/>, checks every op of <paramref name="npuOps"/> is on the NPU,
    /// writes the inputs (manifest order) and runs the bundle; returns the output's bytes.</summary>
    private int _steps;

    private byte[] Run(string text, string[] npuOps, params byte[][] inputs)
    {
        var (ctx, module) = PassTestUtil.Parse(text);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(npu-partition))", diags);
        Assert.True(pm is not null && pm.Run(module, diags).Succeeded, diags.Render());
        foreach (var op in module.Walk().Where(o => npuOps.Contains(o.Name)))
        {
            Assert.Equal(NpuPlacement.Npu, (op.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value);
        }

        var lowered = NpuIR.Lower(ctx, module, "f", "e1");
        Assert.Empty(lowered.HostSteps);
        var session = new BundleSession(lowered.Bundle);
        var ins = lowered.Bundle.Program.Tensors.Where(t => t.Role == "input").ToList();
        Assert.Equal(inputs.Length, ins.Count);
        for (int i = 0; i < ins.Count; i++)
        {
            session.Write(ins[i].Name, inputs[i]);
        }

        var run = session.Run(null);
        output.WriteLine($"{string.Join(", ", npuOps)}: {run.Total.Cycles} cycles, {lowered.Bundle.Steps.Count} steps");
        _steps = lowered.Bundle.Steps.Count;
        return session.Read(lowered.Bundle.Program.Tensors.First(t => t.Role == "output").Name);
    }

    /// <summary>Pairwise rope, y[2p] = x[2p]·c[2p] − x[2p+1]·s[2p], y[2p+1] = x[2p+1]·c[2p+1] + x[2p]·s[2p+1], per head, with
    /// tables that differ per element (so a kernel pairing the wrong elements fails).</summary>
    [Theory]
    [InlineData(4, 1, 64)]
    [InlineData(2, 5, 32)]
    public void InterleavedRopeWithRuntimeTables(int h, int s, int d)
    {
        var rng = new Random(h + s + d);
        double[] x = Rand(rng, h * s * d), c = Rand(rng, s * d), sn = Rand(rng, s * d);
        string xt = $"tensor<1x{h}x{s}x{d}xf16>", tt = $"tensor<{s}x{d}xf16>";
        var text = $"func.func @f(%x: {xt}, %c: {tt}, %s: {tt}) -> {xt} {{\n" +
            $"  %y = graph.rope(%x, %c, %s) {{interleaved = 1}} : ({xt}, {tt}, {tt}) -> {xt}\n  func.return(%y) : {xt}\n}}\n";
        var got = Run(text, ["graph.rope"], F16(x), F16(c), F16(sn));
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % d, t = (i / d % s * d) + j;
            double want = j % 2 == 0 ? (x[i] * c[t]) - (x[i + 1] * sn[t]) : (x[i] * c[t]) + (x[i - 1] * sn[t]);
            double tol = (2 * Ulp(want)) + 1e-5;
            Assert.True(Math.Abs(At(got, i) - want) <= tol, $"y[{i}] = {At(got, i)}, reference {want}, tolerance {tol}");
        }
    }

    /// <summary>Rotate-half rope of one position (decode) on [1, H, 1, D]: one kernel for all heads, y[j] = x[j]·c[j] −
    /// x[j + D/2]·s[j] for j &lt; D/2 and y[j] = x[j]·c[j] + x[j − D/2]·s[j] above.</summary>
    [Theory]
    [InlineData(14, 64)]
    [InlineData(3, 10)]
    public void RotateHalfRopeOfOnePositionIsOneKernel(int h, int d)
    {
        var rng = new Random(h * d);
        double[] x = Rand(rng, h * d), c = Rand(rng, d), sn = Rand(rng, d);
        string xt = $"tensor<1x{h}x1x{d}xf16>", tt = $"tensor<1x{d}xf16>";
        var text = $"func.func @f(%x: {xt}, %c: {tt}, %s: {tt}) -> {xt} {{\n" +
            $"  %y = graph.rope(%x, %c, %s) : ({xt}, {tt}, {tt}) -> {xt}\n  func.return(%y) : {xt}\n}}\n";
        var got = Run(text, ["graph.rope"], F16(x), F16(c), F16(sn));
        Assert.Equal(1, _steps);
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % d, half = d / 2;
            double want = j < half ? (x[i] * c[j]) - (x[i + half] * sn[j]) : (x[i] * c[j]) + (x[i - half] * sn[j]);
            double tol = (2 * Ulp(want)) + 1e-5;
            Assert.True(Math.Abs(At(got, i) - want) <= tol, $"y[{i}] = {At(got, i)}, reference {want}, tolerance {tol}");
        }
    }

    /// <summary>Decode attention as the GGUF graphs have it: one query row per head (GQA 4:2) against a 96-slot cache with
    /// a [1, 1, 1, T] boolean mask input; the hidden slots hold large values that would dominate if they leaked. The same
    /// mask as a constant (not causal, so it too goes to the kernel as a tensor, stored in DRAM as a weight).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SdpaWithBooleanMask(bool constant)
    {
        const int hq = 4, hkv = 2, t = 96, d = 32, pos = 40;
        var rng = new Random(3);
        double[] q = Rand(rng, hq * d), k = Rand(rng, hkv * t * d), v = Rand(rng, hkv * t * d);
        for (int i = 0; i < k.Length; i++)
        {
            if (i / d % t > pos)
            {
                (k[i], v[i]) = (8, 50);
            }
        }

        byte[] mask = Enumerable.Range(0, t).Select(j => (byte)(j <= pos ? 1 : 0)).ToArray();
        string qt = $"tensor<1x{hq}x1x{d}xf16>", kt = $"tensor<1x{hkv}x{t}x{d}xf16>", mt = $"tensor<1x1x1x{t}xi1>";
        var text = $"func.func @f(%q: {qt}, %k: {kt}, %v: {kt}, %m: {mt}) -> {qt} {{\n" +
            $"  %o = graph.sdpa(%q, %k, %v, %m) {{is_causal = 0, scale = 0.2 : f32}} : ({qt}, {kt}, {kt}, {mt}) -> {qt}\n  func.return(%o) : {qt}\n}}\n";
        if (constant)
        {
            string bits = string.Join(", ", mask.Select(b => b != 0 ? "true" : "false"));
            text = text.Replace($", %m: {mt})", ")", StringComparison.Ordinal)
                .Replace("  %o = ", $"  %m = arith.constant dense<[[[[{bits}]]]]> : {mt}\n  %o = ", StringComparison.Ordinal);
        }

        var got = constant ? Run(text, ["graph.sdpa"], F16(q), F16(k), F16(v)) : Run(text, ["graph.sdpa"], F16(q), F16(k), F16(v), mask);
        for (int h = 0; h < hq; h++)
        {
            int g = h / (hq / hkv);
            var w = Enumerable.Range(0, pos + 1).Select(j => 0.2 * Enumerable.Range(0, d).Sum(e => q[(h * d) + e] * k[(((g * t) + j) * d) + e])).ToArray();
            double max = w.Max(), sum = w.Sum(x => Math.Exp(x - max));
            for (int e = 0; e < d; e++)
            {
                double want = Enumerable.Range(0, pos + 1).Sum(j => Math.Exp(w[j] - max) * v[(((g * t) + j) * d) + e]) / sum;
                double tol = 2e-3 + (1e-2 * Math.Abs(want));
                Assert.True(Math.Abs(At(got, (h * d) + e) - want) <= tol,
                    string.Create(CultureInfo.InvariantCulture, $"o[{h}, {e}] = {At(got, (h * d) + e)}, reference {want}, tolerance {tol}"));
            }
        }
    }
}
