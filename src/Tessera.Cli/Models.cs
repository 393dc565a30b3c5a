using Tessera.IR;
using Tessera.Gguf;
using Tessera.Onnx;

namespace Tessera.Cli;

/// <summary>Loads what the CLI accepts as a model: ONNX, GGUF (by extension) or Tessera IR text (.tir).</summary>
public static class Models
{
    /// <summary>Returns the module; throws <see cref="DiagnosticException"/> or <see cref="ImportException"/> on bad input.</summary>
    public static Operation Load(Context ctx, string path) =>
        path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? GgufImporter.Import(ctx, path) : ModelLoader.Load(ctx, path);

    /// <summary>The function named <paramref name="name"/>; for the default name "main": @main, else @prefill, else the first.</summary>
    public static Operation? EntryFunction(Operation module, string name) => Tessera.Passes.Transforms.NpuLowerPass.EntryFunction(module, name);
}
