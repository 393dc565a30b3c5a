using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.IR;
using Tessera.IR.Passes;
using Tessera.Onnx;
using Tessera.Passes;

namespace Tessera.Benchmarks;

/// <summary>
/// The reference evaluator against ONNX Runtime (CPU, default session options) on the corpus models, same input,
/// same process. The Ratio column is evaluator time ÷ ORT time; the goal for the reference path is ≤ 20.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class EvaluatorVsOnnxRuntime
{
    private InferenceSession _session = null!;
    private List<NamedOnnxValue> _ortInputs = null!;
    private Operation _func = null!;
    private NDArray _ids = null!;

    [Params("llama", "qwen2", "gpt2")]
    public string Model { get; set; } = "";

    public static string ModelDir(string model)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "data", "models", model);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "data", "models", model);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"tests/data/models/{model} not found above {AppContext.BaseDirectory}");
    }

    [GlobalSetup]
    public void Setup()
    {
        var dir = ModelDir(Model);
        _ids = Npy.Read(Path.Combine(dir, "input_ids.npy"));
        _session = new InferenceSession(Path.Combine(dir, "model.onnx"));
        _ortInputs = [NamedOnnxValue.CreateFromTensor(_session.InputMetadata.Keys.First(), new DenseTensor<long>(_ids.I!, _ids.Shape.Select(d => (int)d).ToArray()))];
        var ctx = Contexts.CreateDefault();
        var module = OnnxImporter.Import(ctx, Path.Combine(dir, "model.onnx"));
        var diags = new DiagnosticBag();
        PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), NamedPipelines.O2, diags)!.Run(module, diags);
        _func = ModelLoader.EntryFunction(module)!;
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Baseline = true)]
    public float OnnxRuntime()
    {
        using var r = _session.Run(_ortInputs);
        return r.First().AsTensor<float>()[0];
    }

    [Benchmark]
    public double TesseraEvaluator() => GraphEvaluator.Run(_func, [_ids])[0].F![0];
}
