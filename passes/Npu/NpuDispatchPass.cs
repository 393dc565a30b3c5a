using Tessera.Npu.Target;

namespace Tessera.Passes.Npu;

/// <summary>
/// The skeleton of the passes that rewrite NPU-placed graph ops as <c>tile.dispatch</c>es for a target description
/// (<c>config</c>: a shipped name or a .json path): it loads the target, rewrites each op it <see cref="Selects"/> in
/// program order, counts them (<c>num-dispatches</c>), and turns a coded error from a rewrite into a diagnostic at the op.
/// </summary>
public abstract class NpuDispatchPass : Pass
{
    private readonly PassOption<string> _config;

    protected NpuDispatchPass()
    {
        _config = Option("config", "e1", "NPU target description: a shipped config name or a .json path");
    }

    public override string? AnchorOp => "func.func";

    /// <summary>Whether <paramref name="op"/> (placed on the NPU) is one this pass rewrites. All are picked before the first
    /// rewrite, so <see cref="Rewrite"/> reads the op's operands afresh: an earlier rewrite may have replaced them.</summary>
    protected abstract bool Selects(Operation op);

    /// <summary>Replaces <paramref name="op"/> by its dispatch; throws a coded <see cref="DiagnosticException"/> if it cannot.</summary>
    protected abstract void Rewrite(Context ctx, NpuTarget target, Operation op);

    /// <summary>Work on the whole function before the ops are rewritten; returns how many dispatches it made.</summary>
    protected virtual int Prepare(Context ctx, NpuTarget target, Operation func) => 0;

    public sealed override PassResult Run(Operation op, PassContext context)
    {
        if (op.Regions.Count != 1 || op.Regions[0].Blocks.Count == 0)
        {
            return PassResult.Unchanged;
        }

        NpuTarget target;
        try
        {
            target = TargetLoader.LoadNamed(_config.Value);
        }
        catch (DiagnosticException e)
        {
            context.Diagnostics.Add(e.Diagnostic);
            return PassResult.Failed;
        }

        int made = Prepare(context.Context, target, op);
        Count("num-dispatches", made);
        var ops = op.Regions[0].Blocks.SelectMany(b => b.Operations)
            .Where(o => (o.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value == NpuPlacement.Npu && Selects(o)).ToList();
        foreach (var x in ops)
        {
            try
            {
                Rewrite(context.Context, target, x);
            }
            catch (DiagnosticException e)
            {
                context.Diagnostics.Add(new Diagnostic(Severity.Error, e.Diagnostic.Code, e.Diagnostic.Message, x.Location));
                return PassResult.Failed;
            }

            Count("num-dispatches", 1);
        }

        return ops.Count + made > 0 ? PassResult.Changed : PassResult.Unchanged;
    }
}
