using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.Gguf;
using Tessera.IR.Passes;
using Tessera.Npu.Bundle;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using Tessera.Onnx;
using Tessera.Passes;
using Tessera.Passes.Npu;
using Xunit.Abstractions;

namespace Tessera.Tests.Npu;

/// <summary>
/// Every corpus model (ONNX exported by PyTorch; GGUF F32 and F16 written by llama.cpp's gguf-py) compiled for e1 with
/// the same pipeline as <c>tessera compile --target npu</c>, run in the simulator (a hazard, deadlock or out-of-bounds
/// access throws), and compared with torch's logits. Tolerance: the corpus manifest's fp16-compute one, atol 0.05 and
/// rtol 0.01 (the NPU computes in f16 with fp32 accumulation; torch's reference is fp32).
/// </summary>
public class ModelEndToEndTests(ITestOutputHelper output)
{
    private const double Atol = 0.05, Rtol = 0.01;

    private static string Data(string rel) => Path.Combine(Repo.Root, "tests/data", rel);

    public static NpuLowering Compile(string model, string function, string dims, string config = "e1")
    {
        var ctx = Contexts.CreateDefault();
        var module = model.EndsWith(".gguf", StringComparison.Ordinal) ? GgufImporter.Import(ctx, model) : ModelLoader.Load(ctx, model);
        var registry = DefaultPasses.CreateRegistry();
        var text = NpuPipelines.Full(registry, NamedPipelines.OptimizationLevel(2), config, dims, "f16", function);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, registry, text, diags);
        Assert.True(pm is not null && pm.Run(module, diags).Succeeded, diags.Render());
        return NpuIR.FromProgram(module.Regions[0].Operations.Single(o => o.Name == "npu.program" && SymbolTable.GetName(o) == function));
    }

    private static byte[] Bytes(NDArray a) => Tessera.Dialects.Graph.Convert.ToAttr(a).Storage.Span.ToArray();

    private static NDArray Read(BundleSession s, NpuBundle b, string name, Tessera.IR.Type et)
    {
        var t = b.Program.Tensors.Single(x => x.Name == name);
        return Tessera.Dialects.Graph.Convert.FromAttr(new DenseElementsAttr(TensorType.Of(et, t.Shape), new ArrayStorage(s.Read(name))));
    }

    /// <summary>Runs the bundle on the given inputs (in manifest order); returns the session and the run.</summary>
    private static (BundleSession Session, BundleRunResult Run) Simulate(NpuBundle bundle, params NDArray[] inputs)
    {
        var session = new BundleSession(bundle);
        var ins = bundle.Program.Tensors.Where(t => t.Role == "input").ToList();
        Assert.Equal(ins.Count, inputs.Length);
        for (int i = 0; i < ins.Count; i++)
        {
            session.Write(ins[i].Name, Bytes(inputs[i]));
        }

        var host = bundle.HostModule is null ? null : new HostRunner(Contexts.CreateDefault(allowUnregistered: true), bundle.HostModule);
        return (session, session.Run(host));
    }

    [Theory]
    [InlineData("models/llama/model.onnx", "models/llama/input_ids.npy", "models/llama/logits_torch.npy")]
    [InlineData("models/qwen2/model.onnx", "models/qwen2/input_ids.npy", "models/qwen2/logits_torch.npy")]
    [InlineData("models/gpt2/model.onnx", "models/gpt2/input_ids.npy", "models/gpt2/logits_torch.npy")]
    [InlineData("gguf/llama/llama-f32.gguf", "gguf/llama/input_ids.npy", "gguf/llama/logits_torch.npy")]
    [InlineData("gguf/llama/llama-f16.gguf", "gguf/llama/input_ids.npy", "gguf/llama/logits_torch_dequant_f16.npy")]
    [InlineData("gguf/qwen2/qwen2-f32.gguf", "gguf/qwen2/input_ids.npy", "gguf/qwen2/logits_torch.npy")]
    [InlineData("gguf/qwen2/qwen2-f16.gguf", "gguf/qwen2/input_ids.npy", "gguf/qwen2/logits_torch_dequant_f16.npy")]
    public void PrefillMatchesTorchLogits(string model, string input, string logits)
    {
        bool gguf = model.EndsWith(".gguf", StringComparison.Ordinal);
        var lowered = Compile(Data(model), gguf ? "prefill" : "main", gguf ? "seq=16" : "");
        var bundle = lowered.Bundle;
        var (session, run) = Simulate(bundle, Npy.Read(Data(input)));
        var got = Read(session, bundle, bundle.Program.Tensors.First(t => t.Role == "output").Name, FloatType.F16);
        var cmp = Compare.AllClose(got, Npy.Read(Data(logits)), Rtol, Atol);
        var host = lowered.HostSteps.Select(s => s.Op).ToList();
        output.WriteLine($"{model}: {run.Total.Cycles} cycles, {bundle.Steps.Count - host.Count} NPU steps, host ops: {string.Join(", ", host)}; {cmp.Message}");
        Assert.True(cmp.Ok, cmp.Message);

        // Nothing stays on the host: the embedding lookup is a dma.gather, GPT-2's fused-QKV split is DMA, the GGUF graphs'
        // position plumbing folds once the dims are bound and their KV-cache pads are padded loads; every matmul, norm,
        // activation, rope (llama's is interleaved) and attention runs on the NPU.
        Assert.Empty(host);

        Assert.DoesNotContain(host, op => op is "graph.mat_mul" or "graph.gemm" or "graph.sdpa" or "graph.rope" or "graph.rms_norm" or "graph.layer_norm" or "graph.silu" or "graph.gelu" or "graph.split");
        Assert.All(host, op => Assert.Contains(op, new[] { "graph.gather", "graph.pad" }));
        Assert.Contains(lowered.Layers, l => l.Op == "graph.sdpa");
        Assert.True(run.Total.Macs > 0);
    }

    /// <summary>Decode after a short prompt: prefill the first 15 tokens, then one decode step with the caches it wrote;
    /// the decode logits must match torch's logits for position 15 of the 16-token run (atol 0.05, rtol 0.01). Attention runs
    /// on the NPU with the boolean mask the graph computes from the position at run time; the cache slots past the position
    /// hold garbage here, so only a mask that really hides them gives torch's logits.</summary>
    [Fact]
    public void DecodeAfterPrefillMatchesTorchLogits()
    {
        var ids = Npy.Read(Data("gguf/llama/input_ids.npy"));
        var prompt = NDArray.Create(ids.ElementType, [1, 15], ids.I!.Take(15).Select(v => (double)v).ToArray());
        var prefill = Compile(Data("gguf/llama/llama-f32.gguf"), "prefill", "seq=15").Bundle;
        var (ps, _) = Simulate(prefill, prompt);
        var caches = prefill.Program.Tensors.Where(t => t.Role == "output").Skip(1).Select(t => Read(ps, prefill, t.Name, FloatType.F16)).ToArray();
        Assert.Equal(4, caches.Length);
        var rng = new Random(16);
        caches = caches.Select(c => NDArray.Create(c.ElementType, c.Shape, c.AsDoubles().Select((x, i) => i / c.Shape[3] % c.Shape[2] >= 16 ? (rng.NextDouble() * 8) - 4 : x).ToArray())).ToArray();

        var lowered = Compile(Data("gguf/llama/llama-f32.gguf"), "decode", "");
        var decode = lowered.Bundle;
        var token = NDArray.Create(ids.ElementType, [1, 1], [ids.I![15]]);
        var position = NDArray.Create(ids.ElementType, [1], [15]);
        var (ds, run) = Simulate(decode, [token, position, .. caches]);
        var got = Read(ds, decode, decode.Program.Tensors.First(t => t.Role == "output").Name, FloatType.F16);
        var want = Npy.Read(Data("gguf/llama/logits_torch.npy"));
        var last = NDArray.Create(want.ElementType, [1, 1, want.Shape[2]], want.AsDoubles().Skip(15 * (int)want.Shape[2]).ToArray());
        var cmp = Compare.AllClose(got, last, Rtol, Atol);
        var host = lowered.HostSteps.Select(s => s.Op).ToList();
        output.WriteLine($"decode: {run.Total.Cycles} cycles, {host.Count} host steps ({string.Join(", ", host)}); {cmp.Message}");
        Assert.True(cmp.Ok, cmp.Message);
        // Left on the host: the token and cos/sin row gathers (runtime row addresses), the position compares and the
        // cache-slot selects (integer and boolean tensors).
        Assert.All(host, op => Assert.Contains(op, new[] { "graph.gather", "graph.equal", "graph.less_or_equal", "graph.where" }));
        Assert.Equal(2, lowered.Layers.Count(l => l.Op == "graph.sdpa"));
    }
}
