namespace Tessera.IR.Passes;

/// <summary>The built-in named pipelines: the optimization levels <c>-O0</c>..<c>-O3</c>.</summary>
public static class NamedPipelines
{
    public const string O0 = "builtin.module()";
    public const string O1 = "builtin.module(func.func(canonicalize),symbol-dce)";
    public const string O2 = "builtin.module(inline,func.func(canonicalize,cse,dce),symbol-dce)";
    public const string O3 = "builtin.module(inline,func.func(canonicalize{max-iterations=20},cse,canonicalize,dce),symbol-dce)";

    /// <summary>The pipeline name for an optimization level 0..3, e.g. <c>O2</c>.</summary>
    public static string OptimizationLevel(int level) => level is >= 0 and <= 3
        ? "O" + PassRegistry.Int(level)
        : throw new ArgumentOutOfRangeException(nameof(level), "optimization level must be 0..3");

    public static void RegisterOptimizationLevels(PassRegistry registry)
    {
        registry.RegisterPipeline("O0", "no optimization", O0);
        registry.RegisterPipeline("O1", "canonicalize functions, drop dead symbols", O1);
        registry.RegisterPipeline("O2", "inline, then canonicalize, CSE and DCE in functions, drop dead symbols", O2);
        registry.RegisterPipeline("O3", "O2 with a longer canonicalization and a second canonicalize after CSE", O3);
    }
}
