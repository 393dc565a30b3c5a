using System.Globalization;
using Tessera.Dialects;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Binds symbolic dims to sizes (<c>dims="seq=16,batch=1"</c>) in every type of a function: its signature, block
/// arguments and op results. A target that needs static shapes (the NPU) runs this before <c>graph-shape-infer</c> and
/// <c>canonicalize</c>, which then fold the shape arithmetic that depended on the symbols.
/// </summary>
public sealed class GraphSpecializePass : Pass
{
    private readonly PassOption<string> _dims;

    public GraphSpecializePass()
    {
        _dims = Option("dims", "", "comma-separated SYMBOL=SIZE bindings, e.g. seq=16");
    }

    public override string Flag => "graph-specialize";
    public override string Summary => "binds symbolic dims to static sizes throughout a function";
    public override string? AnchorOp => "func.func";

    public override PassResult Run(Operation op, PassContext context)
    {
        var bindings = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in _dims.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || kv[0].Length == 0 || !long.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size) || size <= 0)
            {
                context.Diagnostics.Add(new Diagnostic(Severity.Error, DiagnosticCodes.PipelineBadOption,
                    $"graph-specialize: '{part}' is not SYMBOL=SIZE with a positive size", op.Location));
                return PassResult.Failed;
            }

            bindings[kv[0]] = size;
        }

        if (bindings.Count == 0 || op.Regions.Count != 1)
        {
            return PassResult.Unchanged;
        }

        int changed = 0;
        Type Bind(Type t)
        {
            if (t is TensorType { Shape: { } shape } tt && shape.Any(d => d.Symbol is { } s && bindings.ContainsKey(s)))
            {
                changed++;
                return new TensorType(shape.Select(d => d.Symbol is { } s && bindings.TryGetValue(s, out long n) ? new Dim(n) : d).ToArray(), tt.ElementType);
            }

            return t;
        }

        Retype.Values(op, Bind);

        if (FuncDialect.TypeOf(op) is { } ft)
        {
            var nt = new FunctionType(ft.Inputs.Select(Bind).ToArray(), ft.Results.Select(Bind).ToArray());
            op.SetAttr(FuncDialect.FunctionTypeAttr, new TypeAttr(nt));
        }

        Count("num-specialized", changed);
        return changed > 0 ? PassResult.Changed : PassResult.Unchanged;
    }
}
