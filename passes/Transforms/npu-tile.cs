using Tessera.Npu.Lowering;
using Tessera.Npu.Target;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Chooses the NPU tiles of every matmul that <c>npu-partition</c> placed on the NPU with <see cref="TileCostModel"/> for the
/// target description named by <c>config</c> (a shipped config such as <c>e1</c> or <c>edge-large</c>, or a .json path)
/// and records them as <c>npu.target</c>, <c>npu.tile_m/n/k</c>, <c>npu.stationary</c> (<c>"b"</c>: B in the array, A's
/// rows streaming; <c>"a"</c>: Aᵀ in the array, Bᵀ's rows streaming) and <c>npu.est_cycles</c>; on an unbatched M = 1
/// matmul whose GEMV estimate (<see cref="GemvKernel"/>) is lower, also <c>npu.kernel = "gemv"</c>, the GEMV's estimate
/// and its blocks (<c>npu.gemv_blocks</c>, which npu-matmul-to-tile follows). A matmul with no matrix-kernel form is TSR0841.
/// </summary>
public sealed class NpuTilePass : Pass
{
    private readonly PassOption<string> _config;

    public NpuTilePass()
    {
        _config = Option("config", "e1", "NPU target description: a shipped config name or a .json path");
    }

    public override string Flag => "npu-tile";
    public override string Summary => "chooses NPU matmul tiles from the target description's cost model";
    public override string? AnchorOp => "func.func";

    public override PassResult Run(Operation op, PassContext context)
    {
        if (op.Regions.Count != 1 || op.Regions[0].Blocks.Count == 0)
        {
            return PassResult.Unchanged;   // a declaration
        }

        try
        {
            var target = TargetLoader.LoadNamed(_config.Value);
            bool changed = false;
            // A model repeats its layers: each distinct problem is searched once.
            var tileCache = new Dictionary<(long, long, long), MatmulTiles>();
            var gemvCache = new Dictionary<(long, long), GemvPlan?>();
            foreach (var mm in op.Regions[0].Blocks.SelectMany(b => b.Operations).Where(IsNpuMatmul).ToList())
            {
                // A batched matmul runs the same per-batch problem Batch times: its tiles are that problem's, and
                // its estimate is Batch times one's (the batch elements' steps form one pipeline).
                var form = NpuMatmulForm.Of(mm).Form ?? throw new DiagnosticException(new Diagnostic(Severity.Error, Tessera.Npu.NpuCodes.LowerUnsupported,
                    "npu-tile: a matmul placed on the NPU has no matrix-kernel form", mm.Location));
                if (!tileCache.TryGetValue((form.M, form.N, form.K), out var tiles))
                {
                    tileCache[(form.M, form.N, form.K)] = tiles = TileCostModel.Choose(target, (int)form.M, (int)form.N, (int)form.K);
                }

                // Decode's M = 1 matmuls are memory bound: the GEMV kernel wins when its estimate beats the matrix unit's.
                GemvPlan? gemv = null;
                if (form is { M: 1, Batch: 1, TransA: false, TransB: false } && !gemvCache.TryGetValue((form.N, form.K), out gemv))
                {
                    gemvCache[(form.N, form.K)] = gemv = GemvKernel.Plan(target, (int)form.N, (int)form.K);
                }

                bool useGemv = gemv is not null && gemv.EstimatedCycles < tiles.EstimatedCycles;
                changed |= useGemv ? mm.GetAttr(NpuMatmulLowering.KernelAttr) is null : mm.RemoveAttr(NpuMatmulLowering.KernelAttr) | mm.RemoveAttr(GemvDispatch.BlocksAttr);
                if (useGemv)
                {
                    mm.SetAttr(NpuMatmulLowering.KernelAttr, new StringAttr(NpuMatmulLowering.Gemv));
                    var blocks = GemvDispatch.Format(gemv!);
                    changed |= (mm.GetAttr(GemvDispatch.BlocksAttr) as StringAttr)?.Value != blocks;
                    mm.SetAttr(GemvDispatch.BlocksAttr, new StringAttr(blocks));
                }

                var attrs = new (string Name, Attribute Value)[]
                {
                    (NpuMatmulLowering.TargetAttr, new StringAttr(target.Name)),
                    (NpuMatmulLowering.TileMAttr, IntegerAttr.I64(tiles.Mt)),
                    (NpuMatmulLowering.TileNAttr, IntegerAttr.I64(tiles.Nt)),
                    (NpuMatmulLowering.TileKAttr, IntegerAttr.I64(tiles.Kt)),
                    (NpuMatmulLowering.EstimateAttr, IntegerAttr.I64(useGemv ? gemv!.EstimatedCycles : tiles.EstimatedCycles * form.Batch)),
                    (NpuMatmulLowering.StationaryAttr, new StringAttr(tiles.StationaryA ? "a" : "b")),
                };
                foreach (var (name, value) in attrs)
                {
                    if (mm.GetAttr(name) != value)
                    {
                        mm.SetAttr(name, value);
                        changed = true;
                    }
                }

                Count("num-tiled", 1);
            }

            return changed ? PassResult.Changed : PassResult.Unchanged;
        }
        catch (DiagnosticException e)
        {
            context.Diagnostics.Add(e.Diagnostic);
            return PassResult.Failed;
        }
    }

    private static bool IsNpuMatmul(Operation op) =>
        op.Name is "graph.mat_mul" or "graph.gemm" && (op.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value == NpuPlacement.Npu;
}
