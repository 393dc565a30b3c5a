using Tessera.Npu.Target;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Rewrites every <c>graph.sdpa</c> that <c>npu-partition</c> put on the NPU as a <c>tile.dispatch</c> running flash
/// attention over blocks the target's cost model picks (<see cref="AttentionTile"/>): tiled online softmax, so the
/// SRAM it needs does not grow with the sequence length. The dispatch writes the op's [1, Hq, S, D] result directly.
/// </summary>
public sealed class NpuAttentionToTilePass : NpuDispatchPass
{
    public override string Flag => "npu-attention-to-tile";
    public override string Summary => "rewrites NPU attention (graph.sdpa) as a tile.dispatch of flash-attention blocks";

    protected override bool Selects(Operation op) => op.Name == "graph.sdpa";

    protected override void Rewrite(Context ctx, NpuTarget target, Operation op) => AttentionTile.Rewrite(ctx, target, op, NpuKernels.Attention(op)!);
}
