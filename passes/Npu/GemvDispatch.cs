using System.Globalization;
using Tessera.Dialects.Tile;
using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// The decode GEMV y[N] = x[K]·W[K×N] (docs/npu/kernels.md § GEMV) as a <c>tile.dispatch</c> that follows the blocks
/// <see cref="GemvKernel.Plan"/> chose, which <c>npu-tile</c> records on the matmul (<see cref="BlocksAttr"/>), in load
/// order. x is loaded once (and, for the vector unit, copied to fp32); then per block of columns:
/// <list type="bullet">
/// <item>vector unit: W's columns loaded transposed (one output's K weights per row), widened to fp32, multiplied by x's
/// fp32 row, summed per row (<c>tile.reduce</c>), narrowed and stored into y viewed as [N x 1];</item>
/// <item>matrix unit: W's columns loaded as [K x w], <c>tile.mma</c> with x as the one streamed row, drained and stored
/// transposed into the same view.</item>
/// </list>
/// Each unit has two copies of its weight and output tiles, so a block loads while the one before computes. A block
/// narrower than the tiles inside W is a load with <c>sizes</c>.
/// </summary>
public static class GemvDispatch
{
    /// <summary>The blocks of the GEMV schedule in load order: "v64 m64 …", unit (vector, matrix) and width.</summary>
    public const string BlocksAttr = "npu.gemv_blocks";

    public static string Format(GemvPlan plan) =>
        string.Join(' ', plan.Blocks.Select(b => (b.Matrix ? "m" : "v") + b.Width.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The blocks <see cref="BlocksAttr"/> records, or why they do not cover the <paramref name="n"/> columns.</summary>
    public static (List<GemvBlock>? Blocks, string? Why) Parse(Operation mm, long n)
    {
        if (mm.GetAttr(BlocksAttr) is not StringAttr text)
        {
            return (null, $"the GEMV matmul has no {BlocksAttr}: run npu-tile first");
        }

        var blocks = new List<GemvBlock>();
        int c0 = 0;
        foreach (var item in text.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (item[0] is not ('v' or 'm') || !int.TryParse(item.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int w) || w < 1 || c0 + (long)w > n)
            {
                return (null, $"{BlocksAttr}: '{item}' is not a block of columns inside the {n} outputs (v or m, then the width)");
            }

            blocks.Add(new GemvBlock(item[0] == 'm', c0, w));
            c0 += w;
        }

        return c0 == n ? (blocks, null) : (null, $"{BlocksAttr} covers {c0} of the {n} output columns");
    }

    /// <summary>The dispatch computing <paramref name="mm"/> (M = 1) from x and the [K×N] weight <paramref name="w"/>,
    /// inserted before it.</summary>
    public static Operation Build(Context ctx, Operation mm, Value w, NpuMatmulForm f, IReadOnlyList<GemvBlock> blocks)
    {
        long k = f.K, n = f.N;
        var et = ((TensorType)mm.Result(0).Type).ElementType;
        var (dispatch, body) = TileBuild.Dispatch(ctx, mm, [mm.Operand(0)!, w]);
        dispatch.SetAttr(NpuMatmulLowering.KernelAttr, new StringAttr(NpuMatmulLowering.Gemv));
        Value X = TileBuild.Bind(body, [1, k], et, "X"), W = TileBuild.Bind(body, [k, n], et, "W"), Y = TileBuild.Bind(body, [n, 1], et, "Y");
        var b = new OpBuilder(ctx);
        b.SetInsertionPointToEnd(body);
        var loc = mm.Location;
        int width = blocks.Max(x => x.Width);
        bool vector = blocks.Any(x => !x.Matrix), matrix = blocks.Any(x => x.Matrix);
        var zero = TileBuild.Zero(b, loc);
        var x = TileBuild.Alloc(b, loc, "x.in", 1, k, et, MemorySpace.Sram, 1);
        Value? xf = null, vIn = null, work = null, sums = null, vOut = null, mIn = null, mOut = null, acc = null;
        if (vector)
        {
            xf = TileBuild.Alloc(b, loc, "x.f32", 1, k, FloatType.F32, MemorySpace.Sram, 1);
            vIn = TileBuild.Alloc(b, loc, "v.in", width, k, et, MemorySpace.Sram, 2);
            work = TileBuild.Alloc(b, loc, "v.f32", width, k, FloatType.F32, MemorySpace.Sram, 1);
            sums = TileBuild.Alloc(b, loc, "v.sums", width, 1, FloatType.F32, MemorySpace.Sram, 1);
            vOut = TileBuild.Alloc(b, loc, "v.out", width, 1, et, MemorySpace.Sram, 2);
        }

        if (matrix)
        {
            mIn = TileBuild.Alloc(b, loc, "m.in", k, width, et, MemorySpace.Sram, 2);
            mOut = TileBuild.Alloc(b, loc, "m.out", 1, width, et, MemorySpace.Sram, 2);
            acc = TileBuild.Alloc(b, loc, "m.acc", 1, width, FloatType.F32, MemorySpace.Acc, 1);
        }

        // x first on the load queue; the vector unit's fp32 copy takes its token, and every matrix block's weight load
        // comes after it on that queue.
        TileBuild.Move(b, TileDialect.Load, X, x, [zero, zero], false, loc);
        if (vector)
        {
            TileBuild.Vector(b, loc, "copy", xf!, x);
        }

        foreach (var block in blocks)
        {
            var c = block.C0 == 0 ? zero : TileBuild.Index(b, loc, block.C0);
            // A block narrower than the tiles short of W's edge says so; at the edge the clip does.
            bool narrow = block.Width < Math.Min(width, n - block.C0);
            if (block.Matrix)
            {
                TileBuild.Move(b, TileDialect.Load, W, mIn!, [zero, c], false, loc, narrow ? (k, block.Width) : null);
                b.Create(TileDialect.Mma, loc, [x, mIn!, acc!, zero], []);
                b.Create(TileDialect.Drain, loc, [acc!, mOut!], []);
                TileBuild.Move(b, TileDialect.Store, mOut!, Y, [c, zero], true, loc);
                continue;
            }

            // Row j of the tile is column c0 + j of W: one output's weights, contiguous for its sum.
            TileBuild.Move(b, TileDialect.Load, W, vIn!, [zero, c], true, loc, narrow ? (block.Width, k) : null);
            TileBuild.Vector(b, loc, "copy", work!, vIn!);
            TileBuild.Vector(b, loc, "mul", work!, work!, xf!);
            TileBuild.Reduce(b, loc, "sum", work!, sums!);
            TileBuild.Vector(b, loc, "copy", vOut!, sums!);
            TileBuild.Move(b, TileDialect.Store, vOut!, Y, [c, zero], false, loc);
        }

        return dispatch;
    }
}
