using System.Runtime.InteropServices;
using Tessera.Dialects;
using Tessera.Dialects.Tile;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Rewrites every matmul that <c>npu-partition</c> put on the NPU and <c>npu-tile</c> tiled into a <c>tile.dispatch</c>:
/// loops over the chosen tiles with explicit memrefs, in the matrix unit's terms X[P×Q] = S[P×K]·W[K×Q]: S streams
/// through the array, W is stationary. With <c>npu.stationary = "b"</c>, S = A, W = B and X = C; with <c>"a"</c>,
/// S = Bᵀ, W = Aᵀ and X = Cᵀ, the transposes being the loads' and the store's. A gemm's transposed constant weight is
/// transposed here, at compile time, and its bias becomes a row-broadcast <c>graph.add</c> after the dispatch. A matmul
/// given the GEMV (<c>npu.kernel = "gemv"</c>) becomes the dispatch of the blocks npu-tile planned (<see cref="GemvDispatch"/>).
/// </summary>
public sealed class NpuMatmulToTilePass : Pass
{
    public override string Flag => "npu-matmul-to-tile";
    public override string Summary => "rewrites tiled NPU matmuls as tile.dispatch loops over tiles with dram/sram/acc memrefs";
    public override string? AnchorOp => "func.func";

    public override PassResult Run(Operation op, PassContext context)
    {
        if (op.Regions.Count != 1 || op.Regions[0].Blocks.Count == 0)
        {
            return PassResult.Unchanged;
        }

        var matmuls = op.Regions[0].Blocks.SelectMany(b => b.Operations)
            .Where(o => o.Name is "graph.mat_mul" or "graph.gemm" && (o.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value == NpuPlacement.Npu).ToList();
        foreach (var mm in matmuls)
        {
            if (NpuMatmulLowering.IsGemv(mm))
            {
                var f = NpuMatmulForm.Of(mm).Form!;
                var (blocks, why) = GemvDispatch.Parse(mm, f.N);
                if (blocks is null)
                {
                    context.Diagnostics.Add(new Diagnostic(Severity.Error, Tessera.Npu.NpuCodes.LowerUnsupported, $"npu-matmul-to-tile: {why}", mm.Location));
                    return PassResult.Failed;
                }

                RewriteGemv(context.Context, mm, f, blocks);
                Count("num-dispatches", 1);
                continue;
            }

            if (NpuMatmulLowering.Tiles(mm) is not { } tiles)
            {
                context.Diagnostics.Add(new Diagnostic(Severity.Error, Tessera.Npu.NpuCodes.LowerUnsupported, "npu-matmul-to-tile: the matmul has no npu.tile_* attributes: run npu-tile first", mm.Location));
                return PassResult.Failed;
            }

            Rewrite(context.Context, mm, tiles);
            Count("num-dispatches", 1);
        }

        return matmuls.Count > 0 ? PassResult.Changed : PassResult.Unchanged;
    }

    private static void Rewrite(Context ctx, Operation mm, Tessera.Npu.Lowering.MatmulTiles tiles)
    {
        var b = new OpBuilder(ctx);
        b.SetInsertionPoint(mm);
        var f = NpuMatmulForm.Of(mm).Form!;
        var a = mm.Operand(0)!;
        var w = NpuPlacement.TransB(mm) ? TransposedConstant(b, mm.Operand(1)!) : mm.Operand(1)!;
        var result = (TensorType)mm.Result(0).Type;
        var et = result.ElementType;
        var (dispatch, body) = TileBuild.Dispatch(ctx, mm, [a, w]);
        // Each operand bound as stored: batch dims (1 where it broadcasts), then its matrix, transposed when it is read so.
        Value A = TileBuild.Bind(body, f.Stored(b: false), et, "A"), B = TileBuild.Bind(body, f.Stored(b: true), et, "B");
        Value C = TileBuild.Bind(body, [.. f.BatchShape, f.M, f.N], et, "C");

        bool tr = tiles.StationaryA;
        long p = tr ? f.N : f.M, q = tr ? f.M : f.N, k = f.K;
        long pt = Math.Min(tr ? tiles.Nt : tiles.Mt, p), qt = Math.Min(tr ? tiles.Mt : tiles.Nt, q), kt = Math.Min(tiles.Kt, k);
        var ib = new OpBuilder(ctx);
        ib.SetInsertionPointToEnd(body);
        var loc = mm.Location;
        var s = TileBuild.Alloc(ib, loc, "stream", pt, kt, et, MemorySpace.Sram, 2);
        var sw = TileBuild.Alloc(ib, loc, "stationary", kt, qt, et, MemorySpace.Sram, 2);
        var x = TileBuild.Alloc(ib, loc, "out", pt, qt, et, MemorySpace.Sram, 2);
        var acc = TileBuild.Alloc(ib, loc, "acc", pt, qt, FloatType.F32, MemorySpace.Acc, 1);
        // The index of a batch dim an operand broadcasts over.
        Value? zero = f.AStrides.Concat(f.BStrides).Any(st => st == 0) ? TileBuild.Zero(ib, loc) : null;
        var outer = ib;
        var batch = new List<Value>();
        for (int d = 0; d < f.BatchShape.Length; d++)
        {
            (outer, var iv) = TileBuild.For(outer, loc, f.BatchShape[d], 1, $"b{d}");
            batch.Add(iv);
        }

        Value[] Batch(long[] strides) => [.. batch.Select((iv, d) => strides[d] == 0 ? zero! : iv)];

        Value[] bA = Batch(f.AStrides), bB = Batch(f.BStrides), bC = [.. batch];
        var (pLoop, pi) = TileBuild.For(outer, loc, p, pt, "p");
        var (qLoop, qi) = TileBuild.For(pLoop, loc, q, qt, "q");
        var (kLoop, ki) = TileBuild.For(qLoop, loc, k, kt, "k");
        // S = A (B stationary) or Bᵀ (A stationary); W = B or Aᵀ. An operand stored transposed flips its load's transpose.
        if (tr)
        {
            TileBuild.Move(kLoop, TileDialect.Load, B, s, [.. bB, .. f.TransB ? [pi, ki] : new[] { ki, pi }], !f.TransB, loc);
            TileBuild.Move(kLoop, TileDialect.Load, A, sw, [.. bA, .. f.TransA ? [ki, qi] : new[] { qi, ki }], !f.TransA, loc);
        }
        else
        {
            TileBuild.Move(kLoop, TileDialect.Load, A, s, [.. bA, .. f.TransA ? [ki, pi] : new[] { pi, ki }], f.TransA, loc);
            TileBuild.Move(kLoop, TileDialect.Load, B, sw, [.. bB, .. f.TransB ? [qi, ki] : new[] { ki, qi }], f.TransB, loc);
        }

        kLoop.Create(TileDialect.Mma, loc, [s, sw, acc, ki], []);
        qLoop.Create(TileDialect.Drain, loc, [acc, x], []);
        TileBuild.Move(qLoop, TileDialect.Store, x, C, [.. bC, .. tr ? [qi, pi] : new[] { pi, qi }], tr, loc);

        Replace(b, mm, dispatch.Result(0), w);
    }

    /// <summary>A matmul <c>npu-tile</c> gave the GEMV becomes its <see cref="GemvDispatch"/>, on the weight as [K×N]
    /// (transposed at compile time when a gemm's transB), plus a gemm's bias add.</summary>
    private static void RewriteGemv(Context ctx, Operation mm, NpuMatmulForm f, IReadOnlyList<Tessera.Npu.Lowering.GemvBlock> blocks)
    {
        var b = new OpBuilder(ctx);
        b.SetInsertionPoint(mm);
        var w = NpuPlacement.TransB(mm) ? TransposedConstant(b, mm.Operand(1)!) : mm.Operand(1)!;
        var dispatch = GemvDispatch.Build(ctx, mm, w, f, blocks);
        Replace(b, mm, dispatch.Result(0), w);
    }

    /// <summary>Replaces <paramref name="mm"/> by <paramref name="product"/>, plus a gemm's bias, and drops a weight the
    /// compile-time transpose left unused.</summary>
    private static void Replace(OpBuilder b, Operation mm, Value product, Value w)
    {
        Value replacement = product;
        if (mm.Name == "graph.gemm" && mm.NumOperands > 2 && mm.Operand(2)!.DefiningOp?.Name != "graph.none")
        {
            // The bias is one value per output column: a row-broadcast add on the NPU after the product.
            product.NameHint = mm.Result(0).NameHint is { } h ? h + ".mm" : null;
            var add = b.Create("graph.add", mm.Location, [product, mm.Operand(2)!], [mm.Result(0).Type], [new(NpuPlacement.PlaceAttr, new StringAttr(NpuPlacement.Npu))]);
            replacement = add.Result(0);
        }

        replacement.NameHint = mm.Result(0).NameHint;
        var weight = mm.Operand(1)!;
        mm.Result(0).ReplaceAllUsesWith(replacement);
        mm.Erase();
        while (!ReferenceEquals(weight, w) && !weight.HasUses && weight.DefiningOp is { } def)
        {
            // The untransposed weight (and the casts it went through), now unused.
            weight = def.Name == "graph.cast" ? def.Operand(0)! : w;
            def.Erase();
        }
    }

    /// <summary>A constant holding the transpose of a 2-D constant (gemm's transB weight, transposed once at compile time).</summary>
    private static Value TransposedConstant(OpBuilder b, Value weight)
    {
        weight = NpuPlacement.ConstantRoot(weight);
        var d = (DenseElementsAttr)weight.DefiningOp!.GetAttr("value")!;
        var shape = NpuPlacement.Shape(weight);
        long rows = shape[0], cols = shape[1];
        int e = d.IsSplat ? 0 : (int)(d.Storage.Length / d.ElementCount);
        var type = TensorType.Of(d.ShapedType.ElementType, [cols, rows]);
        DenseElementsAttr t;
        if (d.IsSplat)
        {
            t = new DenseElementsAttr(type, d.Storage, true);
        }
        else
        {
            var src = d.Storage.Slice(0, checked((int)d.Storage.Length));
            var bytes = new byte[src.Length];
            switch (e)
            {
                case 2:
                    Transpose(MemoryMarshal.Cast<byte, ushort>(src), MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()), rows, cols);
                    break;
                case 4:
                    Transpose(MemoryMarshal.Cast<byte, uint>(src), MemoryMarshal.Cast<byte, uint>(bytes.AsSpan()), rows, cols);
                    break;
                default:
                    Transpose(src, bytes.AsSpan(), rows, cols, e);
                    break;
            }

            t = new DenseElementsAttr(type, new ArrayStorage(bytes));
        }

        var c0 = b.Create("arith.constant", weight.DefiningOp!.Location, [], [type], [new("value", t)]);
        c0.Result(0).NameHint = weight.NameHint is { } h ? h + ".T" : null;
        return c0.Result(0);
    }

    /// <summary>dst[c, r] = src[r, c] in 64 x 64 blocks, so both sides stay in cache (weights run to hundreds of MB).</summary>
    private static void Transpose<T>(ReadOnlySpan<T> src, Span<T> dst, long rows, long cols)
    {
        const int B = 64;
        for (long r0 = 0; r0 < rows; r0 += B)
        {
            for (long c0 = 0; c0 < cols; c0 += B)
            {
                long r1 = Math.Min(rows, r0 + B), c1 = Math.Min(cols, c0 + B);
                for (long r = r0; r < r1; r++)
                {
                    for (long c = c0; c < c1; c++)
                    {
                        dst[(int)((c * rows) + r)] = src[(int)((r * cols) + c)];
                    }
                }
            }
        }
    }

    /// <summary>The same for elements of <paramref name="e"/> bytes that are neither 2 nor 4.</summary>
    private static void Transpose(ReadOnlySpan<byte> src, Span<byte> dst, long rows, long cols, int e)
    {
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < cols; c++)
            {
                src.Slice((int)(((r * cols) + c) * e), e).CopyTo(dst[(int)(((c * rows) + r) * e)..]);
            }
        }
    }
}
