using Tessera.Dialects;
using Tessera.Gguf;
using Tessera.IR.Passes;
using Tessera.Onnx;
using Tessera.Passes;

namespace Tessera.Tests.Onnx;

/// <summary>Same input, same bytes: importing and compiling twice, in fresh contexts, prints identical IR.</summary>
public class DeterminismTests
{
    private static string Compile(Func<Context, Operation> import, string pipeline)
    {
        var ctx = Contexts.CreateDefault();
        var module = import(ctx);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), pipeline, diags)!;
        Assert.True(pm.Run(module, diags).Succeeded, diags.Render());
        return Printer.PrintOp(module, PrintOptions.Full with { DebugInfo = true });
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void OnnxImportAndO2AndRaisingAreDeterministic(string model)
    {
        var path = Path.Combine(Repo.Root, "tests", "data", "models", model, "model.onnx");
        const string pipeline = "builtin.module(inline,func.func(graph-shape-infer,canonicalize,cse,dce,graph-raise-norms,graph-raise-activations,graph-raise-rope,graph-raise-attention,canonicalize,cse),symbol-dce)";
        var first = Compile(ctx => OnnxImporter.Import(ctx, path), pipeline);
        var second = Compile(ctx => OnnxImporter.Import(ctx, path), pipeline);
        Assert.Equal(first, second);
        Assert.Contains("graph.sdpa", first);
    }

    [Fact]
    public void GgufImportIsDeterministic()
    {
        var path = Path.Combine(Repo.Root, "tests", "data", "gguf", "qwen2", "qwen2-Q4_K_M.gguf");
        var first = Compile(ctx => GgufImporter.Import(ctx, path), "builtin.module(func.func(canonicalize,cse))");
        var second = Compile(ctx => GgufImporter.Import(ctx, path), "builtin.module(func.func(canonicalize,cse))");
        Assert.Equal(first, second);
        Assert.Contains("!ggml.q4_k", first);
    }
}
