using Tessera.Npu.Target;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Rewrites the vector-unit ops that <c>npu-partition</c> put on the NPU (element-wise ops with a full, per-row,
/// per-column or scalar second operand, activations, softmax, rms_norm, layer_norm; see <see cref="RowKernels"/>) as
/// <c>tile.dispatch</c>es: the result viewed as rows of its last dim, a loop over blocks of rows that loads each
/// streamed operand's block, computes it with <c>tile.vector</c>/<c>tile.reduce</c> on fp32 work tiles and stores it,
/// with two copies of every moved block. The rows per block come from the target description (see
/// <see cref="RowKernel.BlockRows"/>). Reductions (<see cref="ReduceKernel"/>) make each output element a row of the
/// elements it reduces, loaded as they lie or transposed, and accumulate the loads of reduced axes that come earlier.
/// </summary>
public sealed class NpuVectorToTilePass : NpuDispatchPass
{
    public override string Flag => "npu-vector-to-tile";
    public override string Summary => "rewrites NPU element-wise, activation, softmax, norm, reduction and rope ops as tile.dispatch loops over row blocks";

    protected override bool Selects(Operation op) => Kernel(op) is not null;

    protected override void Rewrite(Context ctx, NpuTarget target, Operation op) => Kernel(op)!(ctx, target);

    /// <summary>What rewrites <paramref name="op"/>: its row kernel or its reduction kernel; null when it has neither.</summary>
    private static Action<Context, NpuTarget>? Kernel(Operation op) =>
        RowKernels.Of(op) is { } row ? (c, t) => row.Build(c, t, op)
        : ReduceKernel.Of(op) is { } reduce ? (c, t) => reduce.Build(c, t, op)
        : RopeTile.Handles(op) ? (c, t) => RopeTile.Rewrite(c, t, op)
        : null;
}
