using Tessera.IR.Passes;

namespace Tessera.Passes;

public static class DefaultPasses
{
    /// <summary>The transformer raising passes, then cleanup: run after -O2 so shape constants are folded.</summary>
    public const string RaiseTransformer =
        "builtin.module(func.func(graph-raise-norms,graph-raise-activations,graph-raise-rope,graph-raise-attention,canonicalize,cse))";

    /// <summary>A registry with every pass Tessera ships and the -O0..-O3 pipelines.</summary>
    public static PassRegistry CreateRegistry()
    {
        var registry = new PassRegistry();
        BuiltinPasses.RegisterAll(registry.Register);
        registry.RegisterPipeline("raise-transformer", "raise norms, activations, RoPE and attention to graph.rms_norm/layer_norm/gelu/silu/rope/sdpa", RaiseTransformer);
        return registry;
    }
}
