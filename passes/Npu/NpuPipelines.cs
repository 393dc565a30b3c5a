using Tessera.IR.Passes;

namespace Tessera.Passes.Npu;

/// <summary>The textual pipeline <c>tessera compile --target npu</c> runs, printed by <c>--print-pipeline</c>.</summary>
public static class NpuPipelines
{
    /// <summary>After the optimisation pipeline: bind symbolic dims, infer shapes, raise transformer blocks, demote
    /// f32, place ops, tile the matmuls and rewrite them, the one-instruction element-wise ops and the data movement as
    /// tile.dispatch loops over tiles; then lower the entry function to the npu dialect.</summary>
    public static string Lowering(string config, string dims, string precision, string function = "main") =>
        "func.func(" +
        (dims.Length > 0 ? $"graph-specialize{{dims={Quote(dims)}}}," : "") +
        "graph-shape-infer,canonicalize,graph-raise-norms,graph-raise-activations,graph-raise-rope,graph-raise-attention," +
        $"canonicalize,cse,dce,graph-shape-infer,demote-f32{{to={precision}}},npu-partition,npu-tile{{config={Quote(config)}}},npu-matmul-to-tile,npu-vector-to-tile{{config={Quote(config)}}},npu-attention-to-tile{{config={Quote(config)}}},npu-move-to-tile{{config={Quote(config)}}}),npu-lower{{config={Quote(config)} function={Quote(function)}}}";

    /// <summary><paramref name="optimization"/> (a <c>builtin.module(...)</c> pipeline, or the name of one in
    /// <paramref name="registry"/> such as O2) followed by <see cref="Lowering"/>.</summary>
    public static string Full(PassRegistry registry, string optimization, string config, string dims, string precision, string function = "main")
    {
        const string Head = "builtin.module(";
        optimization = registry.LookupPipeline(optimization)?.PipelineText ?? optimization;
        var inner = optimization.StartsWith(Head, StringComparison.Ordinal) && optimization.EndsWith(')')
            ? optimization[Head.Length..^1]
            : throw new DiagnosticException(new Diagnostic(Severity.Error, DiagnosticCodes.PipelineSyntax,
                $"--target npu appends its lowering to a builtin.module(...) pipeline; '{optimization}' is not one", Location.Unknown));
        return Head + (inner.Length > 0 ? inner + "," : "") + Lowering(config, dims, precision, function) + ")";
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
