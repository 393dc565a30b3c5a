using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.IR.Passes;
using Tessera.Onnx;
using Tessera.Passes;

namespace Tessera.Tests.Onnx;

/// <summary>
/// PyTorch-exported transformers import, optimise at -O2 and evaluate to torch's logits within the manifest's
/// tolerance; and they agree with ONNX Runtime run in-process on the same input: two independent engines.
/// </summary>
public class RealModelTests
{
    public static IEnumerable<object[]> Models() => new[] { "llama", "llama-dynamo", "qwen2", "gpt2" }.Select(m => new object[] { m });

    private static string Dir(string model) => Path.Combine(Repo.Root, "tests", "data", "models", model);

    private static (double Atol, double Rtol) Tolerance(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir(model), "manifest.json")));
        var t = doc.RootElement.GetProperty("tolerance").GetProperty("fp32_vs_reference");
        return (t.GetProperty("atol").GetDouble(), t.GetProperty("rtol").GetDouble());
    }

    private static NDArray Evaluate(string model, int optLevel)
    {
        var ctx = Contexts.CreateDefault();
        var module = OnnxImporter.Import(ctx, Path.Combine(Dir(model), "model.onnx"));
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), NamedPipelines.OptimizationLevel(optLevel), diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        var func = ModelLoader.EntryFunction(module)!;
        return GraphEvaluator.Run(func, [Npy.Read(Path.Combine(Dir(model), "input_ids.npy"))])[0];
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void MatchesTorchLogitsAfterO2(string model)
    {
        var (atol, rtol) = Tolerance(model);
        var logits = Evaluate(model, 2);
        var torch = Npy.Read(Path.Combine(Dir(model), "logits_torch.npy"));
        var r = Compare.AllClose(logits, torch, rtol, atol);
        Assert.True(r.Ok, r.Message);
        Assert.Equal(ArgMaxRows(torch), ArgMaxRows(logits));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void AgreesWithOnnxRuntimeInProcess(string model)
    {
        var (atol, rtol) = Tolerance(model);
        var ids = Npy.Read(Path.Combine(Dir(model), "input_ids.npy"));
        using var session = new InferenceSession(Path.Combine(Dir(model), "model.onnx"));
        var input = new DenseTensor<long>(ids.I!, ids.Shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input)]);
        var ort = results.First().AsTensor<float>();
        var ortArray = NDArray.Create(FloatType.F32, ort.Dimensions.ToArray().Select(d => (long)d).ToArray(), ort.ToArray().Select(v => (double)v).ToArray());
        var ours = Evaluate(model, 0);
        var r = Compare.AllClose(ours, ortArray, rtol, atol);
        Assert.True(r.Ok, r.Message);
    }

    private static long[] ArgMaxRows(NDArray a)
    {
        long v = a.Shape[^1];
        var result = new long[a.Length / v];
        for (long row = 0; row < result.Length; row++)
        {
            long best = 0;
            for (long j = 1; j < v; j++)
            {
                if (a.GetF(row * v + j) > a.GetF(row * v + best))
                {
                    best = j;
                }
            }

            result[row] = best;
        }

        return result;
    }
}
