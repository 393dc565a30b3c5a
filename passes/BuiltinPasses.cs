using Tessera.Passes.Transforms;

namespace Tessera.Passes;

/// <summary>The passes this project ships, for a pass registry with <c>Register(string flag, Func&lt;Pass&gt; factory)</c>.</summary>
public static class BuiltinPasses
{
    /// <summary>Registers every built-in pass under its flag; each factory returns a fresh instance with default options.</summary>
    public static void RegisterAll(Action<string, Func<Pass>> register)
    {
        ArgumentNullException.ThrowIfNull(register);
        Register(register, () => new CanonicalizePass());
        Register(register, () => new CsePass());
        Register(register, () => new DcePass());
        Register(register, () => new SymbolDcePass());
        Register(register, () => new InlinePass());
        Register(register, () => new GraphShapeInferPass());
        Register(register, () => new GraphRaiseNormsPass());
        Register(register, () => new GraphRaiseActivationsPass());
        Register(register, () => new GraphRaiseRopePass());
        Register(register, () => new GraphRaiseAttentionPass());
        Register(register, () => new GraphSpecializePass());
        Register(register, () => new DemoteF32Pass());
        Register(register, () => new NpuPartitionPass());
        Register(register, () => new NpuTilePass());
        Register(register, () => new NpuMatmulToTilePass());
        Register(register, () => new NpuVectorToTilePass());
        Register(register, () => new NpuAttentionToTilePass());
        Register(register, () => new NpuMoveToTilePass());
        Register(register, () => new NpuLowerPass());
    }

    private static void Register(Action<string, Func<Pass>> register, Func<Pass> factory) => register(factory().Flag, factory);
}
