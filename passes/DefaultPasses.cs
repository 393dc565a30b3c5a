using Tessera.IR.Passes;

namespace Tessera.Passes;

public static class DefaultPasses
{
    /// <summary>A registry with every pass Tessera ships and the -O0..-O3 pipelines.</summary>
    public static PassRegistry CreateRegistry()
    {
        var registry = new PassRegistry();
        BuiltinPasses.RegisterAll(registry.Register);
        return registry;
    }
}
