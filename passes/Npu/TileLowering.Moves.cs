using Tessera.Dialects.Tile;
using Tessera.Npu;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// The data-movement side of <see cref="TileLowering"/>: <c>tile.load</c>/<c>tile.store</c> of tiles of any rank through
/// <c>tile.view</c>s (strided, permuted) with optional padding, and <c>tile.gather</c>. A move becomes one DMA descriptor
/// pass per tile: the DRAM strides walk the view, the SRAM side is the tile packed densely over its clipped extent (the
/// layout every tile op assumes), and dims contiguous on both sides merge, so a tile spans at most three descriptor dims
/// (more are looped, one DMA each). Elements of 8 bytes move as pairs of 4-byte ones. Tokens follow the buffers'
/// empty/full protocol (<see cref="TileLowering"/>), except an index tile: loaded and gathered on the load queue alone,
/// which runs in order, it needs none.
/// </summary>
public static partial class TileLowering
{
    private const int MaxDim = 65535;

    private sealed partial class Buf
    {
        /// <summary>Written only by loads and read only by gathers (an index tile): both on the load queue, so no tokens.</summary>
        public bool QueueLocal { get; set; }

        /// <summary>The extent, per tile dim, of what the write <see cref="BoxWrite"/> left (padding included).</summary>
        public long[] Box { get; set; } = [];
        public int BoxWrite { get; set; }
    }

    private sealed partial record Event
    {
        /// <summary>The DRAM side of a strided move or gather as a layout over its binding.</summary>
        public Layout? Move { get; init; }

        /// <summary>A padded load's elements added before and after each DRAM dim, and the padding element's bits.</summary>
        public (long[] Low, long[] High, int Bits)? Pad { get; init; }
    }

    /// <summary>A DRAM memref as elements of a binding: element j lies at <c>Offset + Σ j[d]·Strides[d]</c> of Root.</summary>
    private sealed record Layout(Value Root, long Offset, long[] Strides, long[] Shape);

    /// <summary>One descriptor dim of a move: count, DRAM and SRAM strides in bytes, padding before and after.</summary>
    private record struct DmaDim(long N, long Dram, long Sram, long Before, long After)
    {
        public readonly bool Padded => Before > 0 || After > 0;
    }

    /// <summary>The ops this file lowers: views, gathers, and moves the matmul/vector path does not (a view, a padded
    /// load, a tile that is not 2-D, 8-byte elements).</summary>
    private static bool IsMoveOp(Operation op)
    {
        if (op.Name is "tile.view" or "tile.gather")
        {
            return true;
        }

        bool load = op.Name == TileDialect.Load.Name;
        Value mem = op.Operand(load ? 0 : 1)!, tile = op.Operand(load ? 1 : 0)!;
        return mem.DefiningOp?.Name == TileDialect.View.Name || op.GetAttr("padding") is not null
            || ((MemRefType)tile.Type).Shape!.Count != 2 || ((MemRefType)mem.Type).ElementType is IntegerType { Width: 64 };
    }

    private static void AddMove(Operation op, Dictionary<Value, Buf> bufs, Func<long[]> index, List<Event> events)
    {
        switch (op.Name)
        {
            case "tile.view":
                return;
            case "tile.gather":
                var ids = bufs[op.Operand(1)!];
                ids.QueueLocal = true;
                events.Add(new Event("gather", bufs[op.Operand(2)!], ids, null, op.Operand(0), [], false) { Move = Resolve(op.Operand(0)!) });
                return;
        }

        if (op.GetAttr("transpose") is not null)
        {
            throw Unsupported(op.Location, "a transposed move of a view or of a tile that is not 2-D (permute with tile.view instead)");
        }

        bool load = op.Name == TileDialect.Load.Name;
        Value mem = op.Operand(load ? 0 : 1)!;
        (long[], long[], int)? pad = null;
        if (op.GetAttr("padding") is { } value)
        {
            var bits = ElementCodec.Encode(((MemRefType)mem.Type).ElementType, [value is FloatAttr f ? f.Value : ((IntegerAttr)value).Value]);
            int b = 0;
            for (int i = Math.Min(bits.Length, 4) - 1; i >= 0; i--)
            {
                b = (b << 8) | bits[i];
            }

            pad = (Ints(op, "low"), Ints(op, "high"), b);
        }

        events.Add(new Event(load ? "load" : "store", bufs[op.Operand(load ? 1 : 0)!], null, null, mem, index(), false) { Move = Resolve(mem), Pad = pad });
    }

    private static long[] Ints(Operation op, string name) => [.. ((ArrayAttr)op.GetAttr(name)!).Elements.Select(e => ((IntegerAttr)e).Value)];

    /// <summary>Follows <c>tile.view</c>s back to the binding: view dim d walks source dim perm[d] from its offset by its step.</summary>
    private static Layout Resolve(Value mem)
    {
        long[] shape = [.. ((MemRefType)mem.Type).Shape!.Select(d => d.Size)];
        if (mem is BlockArgument)
        {
            var dense = new long[shape.Length];
            for (long k = shape.Length - 1, acc = 1; k >= 0; acc *= shape[k], k--)
            {
                dense[k] = acc;
            }

            return new Layout(mem, 0, dense, shape);
        }

        if (mem.DefiningOp is not { Name: "tile.view" } v)
        {
            throw Unsupported(mem.Location, "a tile move's dram memref must be a binding or a tile.view of one");
        }

        var src = Resolve(v.Operand(0)!);
        int rank = src.Shape.Length;
        long[] off = Ints(v, "offsets");
        long[] steps = v.GetAttr("steps") is null ? [.. Enumerable.Repeat(1L, rank)] : Ints(v, "steps");
        long[] perm = v.GetAttr("perm") is null ? [.. Enumerable.Range(0, rank).Select(i => (long)i)] : Ints(v, "perm");
        long offset = src.Offset + off.Select((o, p) => o * src.Strides[p]).Sum();
        return new Layout(src.Root, offset, [.. perm.Select(p => src.Strides[p] * steps[p])], shape);
    }

    private static void EmitMove(ProgramBuilder pb, Dictionary<Value, TensorDecl> dram, Event ev)
    {
        switch (ev.Kind)
        {
            case "gather":
                Gather(pb, dram, ev);
                break;
            case "load" when ev.Skip:
                break;
            default:
                Move(pb, dram, ev, ev.Kind == "load");
                break;
        }
    }

    /// <summary>A load or store of the tile at the event's indices: clipped at the (padded) memref's edges, the padding
    /// done by the descriptor, which pads only its two inner dims.</summary>
    private static void Move(ProgramBuilder pb, Dictionary<Value, TensorDecl> dram, Event ev, bool load)
    {
        var b = ev.Tile!;
        var lay = ev.Move!;
        int e = Elem((MemRefType)ev.Mem!.Type), m = lay.Shape.Length;
        long[] tile = [.. b.Type.Shape!.Select(d => d.Size)];
        int r = tile.Length;
        long[] lo = ev.Pad?.Low ?? new long[m], hi = ev.Pad?.High ?? new long[m];
        if (!load && b.QueueLocal)
        {
            throw Unsupported(ev.Mem.Location, "an index tile is read only by tile.gather");
        }

        // What the buffer holds: a store moves (at most) the extent its last write left, packed densely.
        long[]? held = load ? null : b.BoxWrite == b.Writes && b.Box.Length == r ? b.Box : r == 2 ? [b.Extent.Rows, b.Extent.Cols] : null;
        long start = lay.Offset;
        for (int d = 0; d < m - r; d++)
        {
            long i = ev.Index[d] - lo[d];
            start += (i >= 0 && i < lay.Shape[d]) ? i * lay.Strides[d] : throw Unsupported(ev.Mem.Location, "a tile index outside its memref's leading dims");
        }

        var box = new long[r];
        var dims = new List<DmaDim>();
        for (int k = 0; k < r; k++)
        {
            int d = m - r + k;
            long idx = ev.Index[d], n = lay.Shape[d];
            box[k] = Math.Min(Math.Min(tile[k], n + lo[d] + hi[d] - idx), held?[k] ?? long.MaxValue);
            long before = Math.Clamp(lo[d] - idx, 0, Math.Max(box[k], 0)), after = Math.Clamp(idx + box[k] - (lo[d] + n), 0, Math.Max(box[k], 0));
            if (box[k] - before - after < 1)
            {
                throw Unsupported(ev.Mem.Location, "a tile with no element of its memref along a dim (past the edge, or all padding)");
            }

            start += (idx - lo[d] + before) * lay.Strides[d];
            dims.Add(new DmaDim(box[k] - before - after, lay.Strides[d] * e, 0, before, after));
        }

        // The SRAM copy is dense over the tile's extent (with its padding).
        long[] dense = held ?? box;
        long acc = e;
        for (int k = r - 1; k >= 0; acc *= dense[k], k--)
        {
            dims[k] = dims[k] with { Sram = acc };
        }

        if (load)
        {
            // A store reads the copy the last write filled; a load fills the next one.
            b.Writes++;
            (b.Box, b.BoxWrite) = (box, b.Writes);
            b.Extent = (box[..^1].Aggregate(1L, (x, y) => x * y), box[^1]);
        }

        long at = dram[lay.Root].DramAddress + (start * e);
        var xfers = Descriptors(pb, dims, e, ev.Pad?.Bits ?? 0, ev.Mem.Location);
        for (int i = 0; i < xfers.Count; i++)
        {
            var (desc, sram, dramOff) = xfers[i];
            int wait = i > 0 ? 0 : load ? (b.QueueLocal ? 0 : b.Empty) : ev.FirstRead ? b.Full : 0;
            int signal = i < xfers.Count - 1 ? 0 : load ? (b.QueueLocal ? 0 : b.Full) : ev.LastRead ? b.Empty : 0;
            pb.Line($"dma.{(load ? "load" : "store")} desc={desc} sram=0x{b.Slot + sram:x} dram=0x{at + dramOff:x}{ProgramBuilder.Sync(wait, signal)}");
        }
    }

    /// <summary>The descriptors of a move: unit dims dropped, dims contiguous on both sides merged (padded ones never),
    /// 8-byte elements split in two, then the innermost three dims per descriptor and one DMA per index of the rest.
    /// Returns each DMA's descriptor and its SRAM and DRAM byte offsets.</summary>
    private static List<(int Desc, long Sram, long Dram)> Descriptors(ProgramBuilder pb, List<DmaDim> dims, int e, int padBits, Location at)
    {
        if (e == 8)
        {
            if (dims.Any(d => d.Padded))
            {
                throw Unsupported(at, "a padded load of 8-byte elements (the DMA pads 1, 2 or 4 bytes)");
            }

            dims.Add(new DmaDim(2, 4, 4, 0, 0));
            e = 4;
        }
        else if (e is not (1 or 2 or 4))
        {
            throw Unsupported(at, $"a move of {e}-byte elements");
        }

        dims.RemoveAll(d => d is { N: 1, Padded: false });
        for (int k = dims.Count - 2; k >= 0; k--)
        {
            DmaDim o = dims[k], i = dims[k + 1];
            if (!o.Padded && !i.Padded && o.Dram == i.Dram * i.N && o.Sram == i.Sram * i.N && o.N * i.N <= MaxDim)
            {
                dims[k] = i with { N = o.N * i.N };
                dims.RemoveAt(k + 1);
            }
        }

        while (dims.Count < 3)
        {
            dims.Insert(0, new DmaDim(1, 0, 0, 0, 0));
        }

        int n = dims.Count;
        if (dims.Any(d => d.N > MaxDim || d.Before > MaxDim || d.After > MaxDim) || dims.Take(n - 2).Any(d => d.Padded))
        {
            throw Unsupported(at, "a tile the DMA cannot move: a dim beyond 65535 elements, or padding outside the innermost two dims");
        }

        DmaDim a = dims[n - 3], b = dims[n - 2], c = dims[n - 1];
        int[] pad = [(int)b.Before, (int)b.After, (int)c.Before, (int)c.After];
        int desc = pb.Desc(e, (int)a.N, (int)b.N, (int)c.N, a.Dram, b.Dram, c.Dram, a.Sram, b.Sram, c.Sram, pad: pad, padValue: pad.Any(p => p > 0) ? padBits : 0);
        var outer = dims.Take(n - 3).ToList();
        var result = new List<(int, long, long)>();
        var index = new long[outer.Count];
        do
        {
            result.Add((desc, outer.Select((d, k) => d.Sram * index[k]).Sum(), outer.Select((d, k) => d.Dram * index[k]).Sum()));
        }
        while (Next(index, outer));
        return result;
    }

    /// <summary>Advances an odometer over <paramref name="dims"/>' counts; false after the last index.</summary>
    private static bool Next(long[] index, List<DmaDim> dims)
    {
        for (int k = index.Length - 1; k >= 0; k--)
        {
            if (++index[k] < dims[k].N)
            {
                return true;
            }

            index[k] = 0;
        }

        return false;
    }

    /// <summary>The rows of the ids the index tile holds, fetched by one <c>dma.gather</c> (which stops the run on an id
    /// outside the table). It follows the ids' load on the load queue, so it waits only for its own buffer.</summary>
    private static void Gather(ProgramBuilder pb, Dictionary<Value, TensorDecl> dram, Event ev)
    {
        Buf rows = ev.Tile!, ids = ev.Tile2!;
        var lay = ev.Move!;
        int e = Elem((MemRefType)ev.Mem!.Type);
        if (ids.BoxWrite != ids.Writes || ids.Writes == 0)
        {
            throw Unsupported(ev.Mem.Location, "a tile.gather before any load of its ids");
        }

        long k = ids.Box[0], cols = lay.Shape[1], tableRows = lay.Shape[0];
        if (e is not (1 or 2 or 4) || cols > MaxDim || tableRows > int.MaxValue)
        {
            throw Unsupported(ev.Mem.Location, DmaKernels.GatherReason(tableRows, cols, e, long.MaxValue) ?? "a gather the DMA cannot do");
        }

        rows.Writes++;
        (rows.Box, rows.BoxWrite, rows.Extent) = ([k, cols], rows.Writes, (k, cols));
        int desc = pb.Desc(e, 1, (int)k, (int)cols, 0, lay.Strides[0] * e, lay.Strides[1] * e, 0, cols * e, e, padValue: (int)tableRows);
        long table = dram[lay.Root].DramAddress + (lay.Offset * e);
        pb.Line($"dma.gather desc={desc} sram=0x{rows.Slot:x} dram=0x{table:x} idx=0x{ids.Slot:x}{ProgramBuilder.Sync(rows.Empty, rows.Full)}");
    }

    private static DiagnosticException Unsupported(Location at, string why) =>
        new(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported, $"NPU lowering: {why}", at));
}
