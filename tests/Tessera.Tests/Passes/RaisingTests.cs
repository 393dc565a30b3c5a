using System.Text.Json;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.IR.Passes;
using Tessera.Onnx;
using Tessera.Passes;

namespace Tessera.Tests.Passes;

/// <summary>
/// The graph-raise-* passes: each snapshot case (raise-*.tir) evaluates to the same values before and after raising
/// on seeded random inputs, and the real models raise the expected ops and still match torch's logits.
/// </summary>
public class RaisingTests
{
    private static string CaseFile(string name) => Path.Combine(Repo.Root, "tests", "Tessera.Tests", "Snapshots", "cases", name + ".tir");

    private static void RunRaise(Context ctx, Operation module)
    {
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "raise-transformer", diags);
        Assert.True(pm is not null, diags.Render());
        Assert.True(pm!.Run(module, diags).Succeeded, diags.Render());
    }

    private static NDArray Random(TensorType t, Random rng)
    {
        var shape = t.Shape!.Select(d => d.Size).ToArray();
        var data = new double[NDArray.Count(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (rng.NextDouble() * 4) - 2;
        }

        return NDArray.Create(t.ElementType, shape, data);
    }

    [Theory]
    [InlineData("raise-rms-norm", "graph.rms_norm", 1)]
    [InlineData("raise-layer-norm", "graph.layer_norm", 2)]
    [InlineData("raise-gelu", "graph.gelu", 2)]
    [InlineData("raise-silu", "graph.silu", 1)]
    [InlineData("raise-rope", "graph.rope", 1)]
    [InlineData("raise-attention", "graph.sdpa", 2)]
    public void RaisedSubgraphComputesTheSameValues(string caseName, string raisedOp, int expectedCount)
    {
        var (ctx, module) = PassTestUtil.Parse(File.ReadAllText(CaseFile(caseName)));
        var funcs = module.Walk().Where(o => o.Name == "func.func").ToList();
        var rng = new Random(1234);
        var inputs = funcs.Select(f => f.Regions[0].EntryBlock!.Arguments.Select(a => Random((TensorType)a.Type, rng)).ToList()).ToList();
        var before = funcs.Select((f, i) => GraphEvaluator.Run(f, inputs[i])[0]).ToList();

        RunRaise(ctx, module);
        Assert.Equal(expectedCount, PassTestUtil.CountOps(module, raisedOp));

        for (int i = 0; i < funcs.Count; i++)
        {
            var after = GraphEvaluator.Run(funcs[i], inputs[i])[0];
            Assert.Equal(before[i].Shape, after.Shape);
            double maxDiff = before[i].F!.Zip(after.F!, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxDiff < 1e-5, $"{caseName} function #{i}: max abs diff {maxDiff}");
        }
    }

    [Fact]
    public void DoesNotRaiseWrongConstants()
    {
        // GELU with 0.6 instead of 0.5, SiLU of a different value, RMSNorm reducing the wrong axis: all left alone.
        const string text = """
            func.func @f(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>, %w: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
              %r2 = arith.constant dense<1.4142135> : tensor<f32>
              %d = graph.div(%x, %r2) {onnx_opset = 17} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
              %e = graph.erf(%d) {onnx_opset = 17} : tensor<4x8xf32>
              %one = arith.constant dense<1.0> : tensor<f32>
              %a = graph.add(%e, %one) {onnx_opset = 17} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
              %m = graph.mul(%x, %a) {onnx_opset = 17} : tensor<4x8xf32>
              %c = arith.constant dense<0.6> : tensor<f32>
              %g = graph.mul(%m, %c) {onnx_opset = 17} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
              %s = graph.sigmoid(%z) {onnx_opset = 17} : tensor<4x8xf32>
              %silu = graph.mul(%x, %s) {onnx_opset = 17} : tensor<4x8xf32>
              %two = arith.constant dense<2.0> : tensor<f32>
              %sq = graph.pow(%x, %two) {onnx_opset = 17} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
              %mean = graph.reduce_mean(%sq) {axes = [0], keepdims = 1, onnx_opset = 17} : (tensor<4x8xf32>) -> tensor<1x8xf32>
              %eps = arith.constant dense<1.0e-05> : tensor<f32>
              %ae = graph.add(%mean, %eps) {onnx_opset = 17} : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
              %sr = graph.sqrt(%ae) {onnx_opset = 17} : tensor<1x8xf32>
              %n = graph.div(%x, %sr) {onnx_opset = 17} : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
              %rms = graph.mul(%n, %w) {onnx_opset = 17} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
              func.return(%g, %silu, %rms) : tensor<4x8xf32>
            }
            """;
        var (ctx, module) = PassTestUtil.Parse(text);
        RunRaise(ctx, module);
        foreach (var op in new[] { "graph.gelu", "graph.silu", "graph.rms_norm" })
        {
            Assert.Equal(0, PassTestUtil.CountOps(module, op));
        }
    }

    public static IEnumerable<object[]> Models() =>
    [
        ["llama", new Dictionary<string, int> { ["graph.rms_norm"] = 5, ["graph.rope"] = 4, ["graph.sdpa"] = 2, ["graph.silu"] = 2, ["graph.softmax"] = 0 }],
        ["qwen2", new Dictionary<string, int> { ["graph.rms_norm"] = 5, ["graph.rope"] = 4, ["graph.sdpa"] = 2, ["graph.silu"] = 2, ["graph.softmax"] = 0 }],
        ["gpt2", new Dictionary<string, int> { ["graph.layer_norm"] = 5, ["graph.gelu"] = 2, ["graph.sdpa"] = 2, ["graph.softmax"] = 0, ["graph.layer_normalization"] = 0 }],
    ];

    [Theory]
    [MemberData(nameof(Models))]
    public void RealModelRaisesAndStillMatchesTorch(string model, Dictionary<string, int> expected)
    {
        string dir = Path.Combine(Repo.Root, "tests", "data", "models", model);
        var ctx = Contexts.CreateDefault();
        var module = OnnxImporter.Import(ctx, Path.Combine(dir, "model.onnx"));
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "O2", diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        RunRaise(ctx, module);
        foreach (var (op, n) in expected)
        {
            Assert.True(n == PassTestUtil.CountOps(module, op), $"{model}: expected {n} x {op}, found {PassTestUtil.CountOps(module, op)}");
        }

        // GQA repetition (Unsqueeze/Expand/Reshape of k and v) is folded into sdpa: no sdpa operand is a Reshape of an Expand.
        foreach (var sdpa in module.Walk().Where(o => o.Name == "graph.sdpa"))
        {
            Assert.DoesNotContain(sdpa.Operands.Skip(1).Take(2), v => v!.DefiningOp is { Name: "graph.reshape" } r && r.Operand(0).DefiningOp?.Name == "graph.expand");
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
        var tol = doc.RootElement.GetProperty("tolerance").GetProperty("fp32_vs_reference");
        var logits = GraphEvaluator.Run(ModelLoader.EntryFunction(module)!, [Npy.Read(Path.Combine(dir, "input_ids.npy"))])[0];
        var torch = Npy.Read(Path.Combine(dir, "logits_torch.npy"));
        var r = Compare.AllClose(logits, torch, tol.GetProperty("rtol").GetDouble(), tol.GetProperty("atol").GetDouble());
        Assert.True(r.Ok, r.Message);
    }
}
