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
        var b = new OpBuilder(ctx);
        b.SetInsertionPoint(op);
        var dispatch = b.Create(TileDialect.Dispatch, op.Location, [.. op.Operands.Select(v => v!)], [type],
            [new("op", new StringAttr(op.Name)), new(NpuPlacement.PlaceAttr, new StringAttr(NpuPlacement.Npu))], regions: 1);
        var body = dispatch.Regions[0].AddBlock();
        var view = new MemRefType([new Dim(rows), new Dim(cols)], type.ElementType, MemorySpace.Dram);
        var ins = Enumerable.Range(0, nin).Select(i => (Value)Named(body.AddArgument(view), $"X{i}")).ToList();
        var result = Named(body.AddArgument(view), "Y");
        var ib = new OpBuilder(ctx);
        ib.SetInsertionPointToEnd(body);
        var tile = new MemRefType([new Dim(rb), new Dim(cols)], type.ElementType, MemorySpace.Sram);
        Value Alloc(string name) => Named(ib.Create(TileDialect.Alloc, op.Location, [], [tile], [new("name", new StringAttr(name)), new("buffers", IntegerAttr.I64(2))]).Result(0), name);
        var bufs = Enumerable.Range(0, nin).Select(i => Alloc($"in{i}")).ToList();
        var outBuf = Alloc("out");
        var zero = Named(ib.Create("arith.constant", op.Location, [], [IndexType.Instance], [new("value", new IntegerAttr(0, IndexType.Instance))]).Result(0), "c0");
        var loop = ib.Create(TileDialect.For, op.Location, [], [], [new("lower", IntegerAttr.I64(0)), new("upper", IntegerAttr.I64(rows)), new("step", IntegerAttr.I64(rb))], regions: 1);
        var lb = loop.Regions[0].AddBlock();
        var r = Named(lb.AddArgument(IndexType.Instance), "r");
        var inner = new OpBuilder(ctx);
        inner.SetInsertionPointToEnd(lb);
        for (int i = 0; i < nin; i++)
        {
            inner.Create(TileDialect.Load, op.Location, [ins[i], bufs[i], r, zero], []);
        }

        inner.Create(TileDialect.Vector, op.Location, [.. bufs, outBuf], [], [new("kind", new StringAttr(Kinds[op.Name]))]);
        inner.Create(TileDialect.Store, op.Location, [outBuf, result, r, zero], []);
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

    private static T Named<T>(T v, string name) where T : Value
    {
        v.NameHint = name;
        return v;
    }
}
