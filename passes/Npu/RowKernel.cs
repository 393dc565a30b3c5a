using Tessera.Dialects.Tile;
using Tessera.Npu.Target;

namespace Tessera.Passes.Npu;

/// <summary>How an operand of a row kernel covers the rows × cols of its result, and so how it is bound and loaded.</summary>
public enum RowInput
{
    /// <summary>rows × cols, loaded block by block.</summary>
    Stream,
    /// <summary>one element per row (rows × 1), loaded block by block.</summary>
    Column,
    /// <summary>one row of cols (a bias, a norm weight), loaded and converted to fp32 once.</summary>
    Row,
    /// <summary>one element, loaded and converted to fp32 once.</summary>
    Scalar,
}

/// <summary>
/// A vector-unit op over the rows of a rows × cols result, as a <c>tile.dispatch</c>: its inputs, the fp32 work tiles it
/// needs per row block, and its computation, written once against the block's tiles. <see cref="Build"/> sizes the
/// block from the target, binds the operands, loads the once-only ones before the loop and, per block, loads the streamed
/// ones, computes and stores the result.
/// </summary>
public sealed class RowKernel
{
    private const long MaxN = 65535;

    public required long Rows { get; init; }
    public required long Cols { get; init; }
    public required (Value Value, RowInput Kind)[] Inputs { get; init; }

    /// <summary>fp32 work tiles of a block's rows × cols, and of its rows × 1 (per-row scalars).</summary>
    public int Work { get; init; }
    public int Scalars { get; init; }

    /// <summary>Writes the block's computation; it must end by writing <see cref="Block.Out"/>.</summary>
    public required Action<Block> Compute { get; init; }

    /// <summary>The tiles of one block: the inputs (the streamed ones as loaded, the once-only ones in fp32), the work
    /// tiles and the result tile, and the ops that compute on them.</summary>
    public sealed class Block(OpBuilder builder, Location loc, Value[] inputs, Value[] work, Value[] scalars, Value output)
    {
        public Value In(int i) => inputs[i];
        public Value W(int i) => work[i];
        public Value S(int i) => scalars[i];
        public Value Out => output;

        /// <summary>dst = kind(a[, b]).</summary>
        public void Vec(string kind, Value dst, Value a, Value? b = null) => TileBuild.Vector(builder, loc, kind, dst, a, b);

        /// <summary>dst = a kind <paramref name="scalar"/>.</summary>
        public void Vec(string kind, Value dst, Value a, double scalar) => TileBuild.Vector(builder, loc, kind, dst, a, scalar);

        public void Reduce(string kind, Value src, Value dst) => TileBuild.Reduce(builder, loc, kind, src, dst);
    }

    /// <summary>Whether the result's rows fit the vector unit (rows ≥ 1 and cols ≥ 1) and the element types are f16/bf16.</summary>
    public static bool Fits(Type result) =>
        result is TensorType { HasStaticShape: true, Rank: >= 1 } t && t.ElementCount > 0 && NpuPlacement.DType(t) is "f16" or "bf16";

    /// <summary>Replaces <paramref name="op"/> by this kernel's dispatch on <paramref name="target"/>.</summary>
    public void Build(Context ctx, NpuTarget target, Operation op)
    {
        var type = (TensorType)op.Result(0).Type;
        var et = type.ElementType;
        long rb = BlockRows(target);
        var (dispatch, body) = TileBuild.Dispatch(ctx, op, Inputs.Select(i => i.Value));
        var views = Inputs.Select((x, i) => TileBuild.Bind(body, x.Kind switch
        {
            RowInput.Stream => [Rows, Cols],
            RowInput.Column => [Rows, 1],
            RowInput.Row => [1, Cols],
            _ => [1, 1],
        }, et, $"X{i}")).ToArray();
        var result = TileBuild.Bind(body, [Rows, Cols], et, "Y");
        var ob = new OpBuilder(ctx);
        ob.SetInsertionPointToEnd(body);
        var loc = op.Location;
        var zero = TileBuild.Zero(ob, loc);
        var tiles = new Value[Inputs.Length];
        for (int i = 0; i < Inputs.Length; i++)
        {
            var (rows, cols, copies) = Inputs[i].Kind switch
            {
                RowInput.Stream => (rb, Cols, 2),
                RowInput.Column => (rb, 1L, 2),
                RowInput.Row => (1L, Cols, 1),
                _ => (1L, 1L, 1),
            };
            tiles[i] = TileBuild.Alloc(ob, loc, $"in{i}", rows, cols, et, MemorySpace.Sram, copies);
        }

        var work = Enumerable.Range(0, Work).Select(i => TileBuild.Alloc(ob, loc, $"w{i}", rb, Cols, FloatType.F32, MemorySpace.Sram, 1)).ToArray();
        var scalars = Enumerable.Range(0, Scalars).Select(i => TileBuild.Alloc(ob, loc, $"s{i}", rb, 1, FloatType.F32, MemorySpace.Sram, 1)).ToArray();
        var outTile = TileBuild.Alloc(ob, loc, "out", rb, Cols, et, MemorySpace.Sram, 2);

        // The once-only inputs: loaded and converted to fp32 before the loop.
        var blockIns = (Value[])tiles.Clone();
        for (int i = 0; i < Inputs.Length; i++)
        {
            if (Inputs[i].Kind is RowInput.Row or RowInput.Scalar)
            {
                var shape = ((MemRefType)tiles[i].Type).Shape!;
                blockIns[i] = TileBuild.Alloc(ob, loc, $"in{i}.f32", shape[0].Size, shape[1].Size, FloatType.F32, MemorySpace.Sram, 1);
                TileBuild.Move(ob, TileDialect.Load, views[i], tiles[i], [zero, zero], false, loc);
                TileBuild.Vector(ob, loc, "copy", blockIns[i], tiles[i]);
            }
        }

        var (inner, r) = TileBuild.For(ob, loc, Rows, rb, "r");
        for (int i = 0; i < Inputs.Length; i++)
        {
            if (Inputs[i].Kind is RowInput.Stream or RowInput.Column)
            {
                TileBuild.Move(inner, TileDialect.Load, views[i], tiles[i], [r, zero], false, loc);
            }
        }

        Compute(new Block(inner, loc, blockIns, work, scalars, outTile));
        TileBuild.Move(inner, TileDialect.Store, outTile, result, [r, zero], false, loc);
        TileBuild.Replace(op, dispatch);
    }

    /// <summary>Rows per block: all that fit SRAM (two copies of each streamed block and of the result's, the work and
    /// scalar tiles, the vector unit's two fp32 scratch rows, the row inputs' copies), at most 65535 (a DMA dim and a row loop's count), split into about four blocks while each block
    /// still moves at least DMA latency × bandwidth bytes, so loads, vector work and stores overlap.</summary>
    public long BlockRows(NpuTarget t)
    {
        const long e = 2;
        long streamCols = Inputs.Sum(i => i.Kind == RowInput.Stream ? Cols : i.Kind == RowInput.Column ? 1 : 0);
        long perRow = (2 * e * (streamCols + Cols)) + (4 * Cols * (Work + 2)) + (4 * Scalars);
        // A row input's fp32 tile holds up to VectorCode.RowCopies copies of the row (TileLowering.RowReplicas).
        long rowCopies = Tessera.Npu.Lowering.VectorCode.RowCopies(MaxN, Cols);
        long fixedBytes = Inputs.Sum(i => i.Kind == RowInput.Row ? (e + (4 * rowCopies)) * Cols : 0) + (64L * (Inputs.Length + Work + Scalars + 8));
        long fit = (t.SramBytes - fixedBytes) / perRow;
        if (fit < 1)
        {
            throw Tessera.Npu.NpuCodes.Error(Tessera.Npu.NpuCodes.LowerUnsupported, t.Name, $"a row of {Cols} elements needs {perRow} bytes of SRAM (plus {fixedBytes}); target {t.Name} has {t.SramBytes}");
        }

        double minBytes = t.DmaLatencyCycles * (double)(t.DmaBandwidthGBps / t.ClockGHz);
        long pipelined = Math.Max((Rows + 3) / 4, (long)Math.Ceiling(minBytes / (e * (streamCols + Cols))));
        return Math.Max(1, Math.Min(Math.Min(fit, Rows), Math.Min(pipelined, MaxN)));
    }
}
