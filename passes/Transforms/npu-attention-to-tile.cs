using Tessera.Npu.Target;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Rewrites every <c>graph.sdpa</c> that <c>npu-partition</c> put on the NPU as a <c>tile.dispatch</c> running flash
/// attention over blocks the target's cost model picks (<see cref="AttentionTile"/>): tiled online softmax, so the
/// SRAM it needs does not grow with the sequence length. The dispatch writes the op's [1, Hq, S, D] result directly.
/// </summary>
public sealed class NpuAttentionToTilePass : Pass
{
    private readonly PassOption<string> _config;

    public NpuAttentionToTilePass()
    {
        _config = Option("config", "e1", "NPU target description: a shipped config name or a .json path");
    }

    public override string Flag => "npu-attention-to-tile";
    public override string Summary => "rewrites NPU attention (graph.sdpa) as a tile.dispatch of flash-attention blocks";
    public override string? AnchorOp => "func.func";

    public override PassResult Run(Operation op, PassContext context)
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

        var ops = op.Regions[0].Blocks.SelectMany(b => b.Operations)
            .Where(o => o.Name == "graph.sdpa" && (o.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value == NpuPlacement.Npu).ToList();
        foreach (var x in ops)
        {
            try
            {
                AttentionTile.Rewrite(context.Context, target, x, NpuKernels.Attention(x)!);
            }
            catch (DiagnosticException e)
            {
                context.Diagnostics.Add(new Diagnostic(Severity.Error, e.Diagnostic.Code, e.Diagnostic.Message, x.Location));
                return PassResult.Failed;
            }

            Count("num-dispatches", 1);
        }

        return ops.Count > 0 ? PassResult.Changed : PassResult.Unchanged;
    }
}
