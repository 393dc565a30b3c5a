using Tessera.IR;

namespace Tessera.Dialects.Tile;

/// <summary>
/// The verifiers of the data-movement ops: <c>tile.view</c> (a strided, permuted view of a DRAM memref, like
/// <c>memref.subview</c> then <c>memref.transpose</c>), the padded <c>tile.load</c> (it reads the memref as if padded by
/// <c>low</c>/<c>high</c> elements of value <c>padding</c>, like <c>tensor.pad</c> fused into the read), and
/// <c>tile.gather</c> (table rows picked by an index tile).
/// </summary>
public sealed partial class TileDialect
{
    private static long[] Ints(Operation op, string name, long[] fallback) =>
        op.GetAttr(name) is ArrayAttr a ? [.. a.Elements.Select(e => ((IntegerAttr)e).Value)] : fallback;

    /// <summary>The dims of a memref as a padded load reads it: each dim grown by its <c>low</c> and <c>high</c>.</summary>
    private static long[] Padded(Operation op, long[] m)
    {
        if (op.GetAttr("padding") is null)
        {
            return m;
        }

        long[] lo = Ints(op, "low", []), hi = Ints(op, "high", []);
        return [.. m.Select((d, i) => d + lo[i] + hi[i])];
    }

    /// <summary><c>low</c>, <c>high</c> and <c>padding</c> come together (only on a load), one non-negative count per
    /// dram dim, and the padding value has the memref's element type.</summary>
    private static string? VerifyPadding(Operation op, long[] m)
    {
        var names = new[] { "low", "high", "padding" };
        int present = names.Count(n => op.GetAttr(n) is not null);
        if (present == 0)
        {
            return null;
        }

        if (present != 3 || op.Name != Load.Name)
        {
            return "a padded move is a tile.load with low, high and padding together";
        }

        long[] lo = Ints(op, "low", []), hi = Ints(op, "high", []);
        if (lo.Length != m.Length || hi.Length != m.Length || lo.Concat(hi).Any(p => p < 0))
        {
            return $"low and high need {m.Length} non-negative counts, one per dram dim";
        }

        var elem = ((ShapedType)op.Operand(0)!.Type).ElementType;
        return ((ITypedAttribute)op.GetAttr("padding")!).Type == elem ? null : $"the padding value must be of the element type {elem.Text}";
    }

    /// <summary>Result dim d walks source dim p = perm[d] from offsets[p] by steps[p] (negative steps walk backwards);
    /// every element it names must lie inside the source.</summary>
    private static string? VerifyView(Operation op)
    {
        long[] src = Shape(op.Operand(0)), dst = Shape(op.Result(0));
        int rank = src.Length;
        long[] off = Ints(op, "offsets", []), step = Ints(op, "steps", [.. Enumerable.Repeat(1L, rank)]);
        long[] perm = Ints(op, "perm", [.. Enumerable.Range(0, rank).Select(i => (long)i)]);
        if (((ShapedType)op.Operand(0)!.Type).ElementType != ((ShapedType)op.Result(0).Type).ElementType || dst.Length != rank)
        {
            return "the view must have the source's element type and rank";
        }

        if (off.Length != rank || step.Length != rank || perm.Length != rank)
        {
            return $"offsets, steps and perm need {rank} entries, one per dim";
        }

        if (!perm.Order().SequenceEqual(Enumerable.Range(0, rank).Select(i => (long)i)))
        {
            return $"perm [{string.Join(", ", perm)}] is not a permutation of the dims";
        }

        for (int d = 0; d < rank; d++)
        {
            long p = perm[d], n = dst[d], first = off[p], last = off[p] + ((n - 1) * step[p]);
            // A zero step repeats one element along the dim: a broadcast (a rope table shared by every head).
            if (n > 0 && (first < 0 || first >= src[p] || last < 0 || last >= src[p]))
            {
                return $"view dim {d} (source dim {p}: {n} elements from {first} by {step[p]}) leaves the source's {src[p]}";
            }
        }

        return null;
    }

    /// <summary>A table [rows x cols] in dram, ids [K] of i64 and dst [K x cols] of the table's type in sram. The ids tile
    /// is written only by loads and read only by gathers, both DMA reads, so a target can keep them in order on one queue
    /// without tokens.</summary>
    private static string? VerifyGather(Operation op)
    {
        long[] table = Shape(op.Operand(0)), ids = Shape(op.Operand(1)), dst = Shape(op.Operand(2));
        if (table.Length != 2 || ids.Length != 1 || dst.Length != 2 || dst[0] != ids[0] || dst[1] != table[1])
        {
            return "needs table[R x C] in dram, ids[K] and dst[K x C] in sram";
        }

        if (((ShapedType)op.Operand(1)!.Type).ElementType is not IntegerType { Width: 64 })
        {
            return "the ids are i64";
        }

        if (((ShapedType)op.Operand(0)!.Type).ElementType != ((ShapedType)op.Operand(2)!.Type).ElementType)
        {
            return "the table and dst must have the same element type";
        }

        return op.Operand(1)!.Uses.All(u => (u.Owner.Name, u.Index) is ("tile.load", 1) or ("tile.gather", 1))
            ? null : "the ids tile may only be written by tile.load and read by tile.gather";
    }
}
