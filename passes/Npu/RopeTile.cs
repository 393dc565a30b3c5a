using Tessera.Dialects.Tile;
using Tessera.Npu.Target;

namespace Tessera.Passes.Npu;

/// <summary>
/// Rotary embedding as a <c>tile.dispatch</c>: per pair of halves (x₁, x₂) of a head, y₁ = x₁c₁ − x₂s₁ and
/// y₂ = x₂c₂ + x₁s₂. x is bound as [G, R, 2, W]: token-major [1, S, H, D] as [S, H, 2, D/2], heads-major [1, H, S, D]
/// as [H, S, 2, D/2], and interleaved (pairwise) rope, which is rotate-half rope on heads of size 2, as
/// [H, S·D/2, 2, 1]. The cos/sin tables hold one row per position; a <c>tile.view</c> with a zero step repeats them over
/// the heads, so the DMA replicates them and the vector work is dense. Views at offset 0 and 1 of the "2" dim pick the
/// halves. Blocks are [gb, rb, 1, W] tiles over G and R, sized from SRAM and the DMA latency.
/// </summary>
internal static class RopeTile
{
    /// <summary>Bytes of SRAM per element of a block: eight f16/bf16 tiles (x, cos, sin and y halves) in two copies, four
    /// fp32 work tiles and the vector unit's two fp32 scratch tiles.</summary>
    private const long BytesPerElement = (8 * 2 * 2) + (6 * 4);

    public static bool Handles(Operation op) => op.Name == "graph.rope" && NpuKernels.Rope(op) is not null;

    public static void Rewrite(Context ctx, NpuTarget target, Operation op)
    {
        var (headsMajor, h, s, d) = NpuKernels.Rope(op)!.Value;
        bool pairs = NpuKernels.Interleaved(op);
        long w = pairs ? 1 : d / 2, g = headsMajor ? h : s, r = headsMajor ? (pairs ? (long)s * d / 2 : s) : h;
        if (d % 2 != 0)
        {
            throw Tessera.Npu.NpuCodes.Error(Tessera.Npu.NpuCodes.LowerUnsupported, target.Name, $"rope needs an even head size, not {d}");
        }

        var et = ((TensorType)op.Result(0).Type).ElementType;
        var (gb, rb) = Blocks(target, g, r, w);
        var (dispatch, body) = TileBuild.Dispatch(ctx, op, [op.Operand(0), op.Operand(1), op.Operand(2)]);
        var b = new OpBuilder(ctx);
        b.SetInsertionPointToEnd(body);
        var loc = op.Location;
        long[] full = [g, r, 2, w], half = [g, r, 1, w];
        var x = TileBuild.Bind(body, full, et, "X");
        // Tables: one row per position, repeated over the heads (the dim whose step is 0).
        long[] tableShape = headsMajor ? [1, r, 2, w] : [g, 1, 2, w];
        long[] repeat = headsMajor ? [0, 1, 1, 1] : [1, 0, 1, 1];
        var tables = new[] { "Cos", "Sin" }.Select(n => TileBuild.View(b, loc, TileBuild.Bind(body, tableShape, et, n), full, [0, 0, 0, 0], repeat, null, n + "b")).ToArray();
        var y = TileBuild.Bind(body, full, et, "Y");
        Value Half(Value of, int i) => TileBuild.View(b, loc, of, half, [0, 0, i, 0], null, null, of.NameHint + (i + 1));
        Value[] xs = [Half(x, 0), Half(x, 1)], cs = [Half(tables[0], 0), Half(tables[0], 1)], ss = [Half(tables[1], 0), Half(tables[1], 1)], ys = [Half(y, 0), Half(y, 1)];

        Value Tile(string name, Type elem, int copies) => TileBuild.Alloc(b, loc, name, [gb, rb, 1, w], elem, MemorySpace.Sram, copies);
        var xt = new[] { Tile("x1", et, 2), Tile("x2", et, 2) };
        var ct = new[] { Tile("c1", et, 2), Tile("c2", et, 2) };
        var st = new[] { Tile("s1", et, 2), Tile("s2", et, 2) };
        var yt = new[] { Tile("y1", et, 2), Tile("y2", et, 2) };
        var f32 = FloatType.F32;
        Value[] xf = [Tile("x1.f32", f32, 1), Tile("x2.f32", f32, 1)], work = [Tile("w0", f32, 1), Tile("w1", f32, 1)];
        var zero = TileBuild.Zero(b, loc);

        var (outer, gi) = TileBuild.For(b, loc, g, gb, "g");
        var (inner, ri) = TileBuild.For(outer, loc, r, rb, "r");
        Value[] idx = [gi, ri, zero, zero];
        for (int i = 0; i < 2; i++)
        {
            TileBuild.Move(inner, TileDialect.Load, xs[i], xt[i], idx, false, loc);
            TileBuild.Move(inner, TileDialect.Load, cs[i], ct[i], idx, false, loc);
            TileBuild.Move(inner, TileDialect.Load, ss[i], st[i], idx, false, loc);
        }

        void Vec(string kind, Value dst, Value a, Value? other = null) => TileBuild.Vector(inner, loc, kind, dst, a, other);
        Vec("copy", xf[0], xt[0]);
        Vec("copy", xf[1], xt[1]);
        Vec("mul", work[0], xf[0], ct[0]);    // x₁c₁
        Vec("mul", work[1], xf[1], st[0]);    // x₂s₁
        Vec("sub", yt[0], work[0], work[1]);  // y₁
        Vec("mul", work[0], xf[1], ct[1]);    // x₂c₂
        Vec("mul", work[1], xf[0], st[1]);    // x₁s₂
        Vec("add", yt[1], work[0], work[1]);  // y₂
        for (int i = 0; i < 2; i++)
        {
            TileBuild.Move(inner, TileDialect.Store, yt[i], ys[i], idx, false, loc);
        }

        TileBuild.Replace(op, dispatch);
    }

    /// <summary>Rows of G and of R per block: whole R when a row of G fits, as many rows of G as SRAM holds, split into about
    /// four blocks while each still moves at least DMA latency × bandwidth bytes.</summary>
    private static (long Gb, long Rb) Blocks(NpuTarget t, long g, long r, long w)
    {
        const long maxDim = 65535;
        long fit = Math.Max(1, (t.SramBytes - 4096) / BytesPerElement);
        double minBytes = t.DmaLatencyCycles * (double)(t.DmaBandwidthGBps / t.ClockGHz);
        long Pipelined(long n, long bytesPerRow) => Math.Max((n + 3) / 4, (long)Math.Ceiling(minBytes / Math.Max(1, bytesPerRow)));

        // A row moves x, both tables (replicated) and y: 4 · 2W elements of 2 bytes.
        if (r * w <= fit && r <= maxDim)
        {
            long gb = Math.Min(Math.Min(g, fit / (r * w)), Math.Min(Pipelined(g, 16 * r * w), maxDim));
            return (Math.Max(1, gb), r);
        }

        return (1, Math.Max(1, Math.Min(Math.Min(r, fit / w), Math.Min(Pipelined(r, 16 * w), maxDim))));
    }
}
