using Tessera.Dialects.Tile;
using Tessera.Npu.Target;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Rewrites the element-wise ops the vector unit does in one instruction (add, sub, mul, max, min of two operands of the
/// result's shape; exp, silu, gelu) that <c>npu-partition</c> put on the NPU as a <c>tile.dispatch</c>: the tensors
/// viewed as rows of their last dim, a loop over blocks of rows that loads each operand's block, computes it with
/// <c>tile.vector</c> and stores it, with two copies of every block buffer. The rows per block come from the target
/// description: as many as SRAM holds (the copies plus fp32 work), at most 65535 elements (a vector instruction's n), and
/// split into about four blocks when each still moves at least DMA latency × bandwidth bytes, so loads, vector work and
/// stores overlap. Ops with a broadcast, or rows longer than 65535, keep their vector kernel.
/// </summary>
public sealed class NpuVectorToTilePass : Pass
{
    private const long MaxN = 65535;
    private readonly PassOption<string> _config;

    public NpuVectorToTilePass()
    {
        _config = Option("config", "e1", "NPU target description: a shipped config name or a .json path");
    }

    public override string Flag => "npu-vector-to-tile";
    public override string Summary => "rewrites one-instruction element-wise NPU ops as tile.dispatch loops over row blocks";
    public override string? AnchorOp => "func.func";

    private static readonly Dictionary<string, string> Kinds = new(StringComparer.Ordinal)
    {
        ["graph.add"] = "add", ["graph.sub"] = "sub", ["graph.mul"] = "mul", ["graph.max"] = "max", ["graph.min"] = "min",
        ["graph.exp"] = "exp", ["graph.silu"] = "silu", ["graph.gelu"] = "gelu",
    };

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

        var ops = op.Regions[0].Blocks.SelectMany(b => b.Operations).Where(Eligible).ToList();
        foreach (var x in ops)
        {
            Rewrite(context.Context, target, x);
            Count("num-dispatches", 1);
        }

        return ops.Count > 0 ? PassResult.Changed : PassResult.Unchanged;
    }

    private static bool Eligible(Operation op) =>
        Kinds.ContainsKey(op.Name) && (op.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value == NpuPlacement.Npu
        && op.Result(0).Type is TensorType { HasStaticShape: true, Rank: >= 1 } t && t.Shape![^1].Size <= MaxN
        && op.Operands.All(v => v!.Type == t);

    private static void Rewrite(Context ctx, NpuTarget target, Operation op)
    {
        var type = (TensorType)op.Result(0).Type;
        long cols = type.Shape![^1].Size, rows = type.ElementCount!.Value / cols;
        int nin = op.NumOperands;
        long rb = BlockRows(target, rows, cols, nin);
        var (dispatch, body) = TileBuild.Dispatch(ctx, op, op.Operands.Select(v => v!));
        long[] view = [rows, cols];
        var ins = Enumerable.Range(0, nin).Select(i => TileBuild.Bind(body, view, type.ElementType, $"X{i}")).ToList();
        var result = TileBuild.Bind(body, view, type.ElementType, "Y");
        var ib = new OpBuilder(ctx);
        ib.SetInsertionPointToEnd(body);
        var loc = op.Location;
        var bufs = Enumerable.Range(0, nin).Select(i => TileBuild.Alloc(ib, loc, $"in{i}", rb, cols, type.ElementType, MemorySpace.Sram, 2)).ToList();
        var outBuf = TileBuild.Alloc(ib, loc, "out", rb, cols, type.ElementType, MemorySpace.Sram, 2);
        var zero = TileBuild.Zero(ib, loc);
        var (inner, r) = TileBuild.For(ib, loc, rows, rb, "r");
        for (int i = 0; i < nin; i++)
        {
            TileBuild.Move(inner, TileDialect.Load, ins[i], bufs[i], [r, zero], false, loc);
        }

        inner.Create(TileDialect.Vector, loc, [.. bufs, outBuf], [], [new("kind", new StringAttr(Kinds[op.Name]))]);
        TileBuild.Move(inner, TileDialect.Store, outBuf, result, [r, zero], false, loc);
        dispatch.Result(0).NameHint = op.Result(0).NameHint;
        op.Result(0).ReplaceAllUsesWith(dispatch.Result(0));
        op.Erase();
    }

    /// <summary>Rows per block: all that fit SRAM (two f16/bf16 copies of each operand's and the result's block, an fp32
    /// copy of each operand's), at most 65535 elements, split into about four blocks while each block still moves at
    /// least DMA latency × bandwidth bytes.</summary>
    public static long BlockRows(NpuTarget t, long rows, long cols, int operands)
    {
        long perRow = cols * ((2L * 2 * (operands + 1)) + (4L * operands)), fixedBytes = 64L * ((3 * operands) + 2);
        long fit = Math.Max(1, (t.SramBytes - fixedBytes) / perRow);
        double minBytes = t.DmaLatencyCycles * (double)(t.DmaBandwidthGBps / t.ClockGHz);
        long pipelined = Math.Max((rows + 3) / 4, (long)Math.Ceiling(minBytes / (2.0 * cols * (operands + 1))));
        return Math.Max(1, Math.Min(Math.Min(fit, rows), Math.Min(pipelined, MaxN / cols)));
    }
}
