using Tessera.Dialects.Tile;
using Tessera.Npu.Target;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Rewrites the data-movement ops <c>npu-partition</c> put on the NPU (transpose, slice, concat, split, pad, gather) as
/// <c>tile.dispatch</c>es of moves only. Each is one or more copies from a view of one binding to a view of another:
/// a transpose reads its input through a permuting <c>tile.view</c>, a slice through an offset and stepped one, a split
/// reads offset views of its input, a concat writes offset views of its result, a pad is a padded <c>tile.load</c>, and a
/// gather loads a tile of ids and <c>tile.gather</c>s their rows. Bindings fold the dims that stay contiguous (so a
/// 4-D transpose that moves whole rows is a 3-D one). A loop over tiles of at most three dims loads each tile into one of
/// two SRAM copies and stores it, so a tile's store overlaps the next one's load. Tiles move about √(bytes · DMA latency ·
/// bandwidth) bytes each, the size that minimises n·latency + bytes/bandwidth + one tile's time for n tiles.
/// </summary>
public sealed class NpuMoveToTilePass : NpuDispatchPass
{
    private const long MaxDim = 65535;

    public override string Flag => "npu-move-to-tile";
    public override string Summary => "rewrites NPU transposes, slices, concats, splits, pads and gathers as tile.dispatch moves of views";

    private static readonly HashSet<string> Moves = new(StringComparer.Ordinal)
    {
        "graph.transpose", "graph.slice", "graph.concat", "graph.split", "graph.pad", "graph.gather",
    };

    /// <summary>One copy: view <see cref="Src"/> of input binding SrcArg to view <see cref="Dst"/> of result binding DstArg
    /// (a null view is the whole binding), with a padded load's low/high/value.</summary>
    private sealed record Copy(int SrcArg, View? Src, int DstArg, View? Dst, long[] Shape)
    {
        public (long[] Low, long[] High, double Value)? Pad { get; init; }
        public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    }

    /// <summary>A <c>tile.view</c>: offsets, steps and perm over its binding, giving <c>Shape</c>.</summary>
    private sealed record View(long[] Offsets, long[]? Steps, long[]? Perm);

    /// <summary>How an op becomes copies: the shape each operand and result is bound in, and the copies.</summary>
    private sealed record Plan(long[][] Inputs, long[][] Results, List<Copy> Copies);

    protected override bool Selects(Operation op) => Moves.Contains(op.Name);

    protected override int Prepare(Context ctx, NpuTarget target, Operation func) => CopyOutputs(ctx, target, func);

    protected override void Rewrite(Context ctx, NpuTarget target, Operation op)
    {
        var (plan, why) = op.Name == "graph.gather" ? (null, null) : PlanOf(op, target);
        if (plan is not null)
        {
            RewriteCopies(ctx, target, op, plan);
        }
        else if (op.Name == "graph.gather" && NpuPlacement.GatherForm(op) is { } g)
        {
            RewriteGather(ctx, target, op, g);
        }
        else
        {
            throw Tessera.Npu.NpuCodes.Error(Tessera.Npu.NpuCodes.LowerUnsupported, target.Name,
                $"npu-move-to-tile: {op.Name} is placed on the NPU but the DMA cannot do it: {why ?? "not a form npu-partition accepts"}");
        }
    }

    /// <summary>A result the function returns that no op of it computes (an argument or a constant, through aliases) or
    /// that it returns twice needs a buffer of its own: a copy dispatch (<c>op = "copy"</c>) writes it, so every output
    /// is some step's result. Returns how many it made.</summary>
    private static int CopyOutputs(Context ctx, NpuTarget target, Operation func)
    {
        if (func.Regions[0].Blocks[^1].Operations.LastOrDefault() is not { Name: "func.return" } ret)
        {
            return 0;
        }

        var returned = new HashSet<Value>(ReferenceEqualityComparer.Instance);
        int made = 0;
        for (int i = 0; i < ret.NumOperands; i++)
        {
            var v = ret.Operand(i)!;
            var root = v;
            while (root.DefiningOp is { } def && (def.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value == NpuPlacement.Alias)
            {
                root = def.Operand(0)!;
            }

            if ((root is not BlockArgument && root.DefiningOp?.Name != "arith.constant" && returned.Add(root)) || v.Type is not TensorType { HasStaticShape: true } t
                || NpuPlacement.ElementBytes(t) == 0 || t.ElementCount == 0)
            {
                continue;
            }

            long cols = t.Rank == 0 ? 1 : t.Shape![^1].Size;
            long[] shape = [t.ElementCount!.Value / cols, cols];
            var copy = Copies(ctx, target, ret, "copy", [v], [t], new Plan([shape], [shape], [new Copy(0, null, 0, null, shape)]));
            copy.Result(0).NameHint = (v.NameHint ?? "out") + ".copy";
            ret.SetOperand(i, copy.Result(0));
            made++;
        }

        return made;
    }

    private static long[] Shape(Value v) => NpuPlacement.Shape(v);

    private static long Prod(IEnumerable<long> s) => s.Aggregate(1L, (a, b) => a * b);

    private static int Axis(Operation op, int rank)
    {
        long a = (op.GetAttr("axis") as IntegerAttr)?.Value ?? 0;
        return (int)(a < 0 ? a + rank : a);
    }

    private static (Plan? Plan, string? Why) PlanOf(Operation op, NpuTarget target)
    {
        switch (op.Name)
        {
            case "graph.transpose":
                var (shape, perm) = CollapsePermutation(Shape(op.Operand(0)!), NpuPlacement.Perm(op));
                long[] result = [.. perm.Select(p => shape[p])];
                return (new Plan([shape], [result], [new Copy(0, new View(new long[shape.Length], null, [.. perm.Select(p => (long)p)]), 0, null, result)]), null);
            case "graph.slice":
                return NpuDataMovement.Slice(op) is { } s ? (Slice(Shape(op.Operand(0)!), s.Start, s.Step, Shape(op.Result(0))), null) : (null, "slice bounds that are not constants");
            case "graph.split" or "graph.concat":
                return (SplitOrConcat(op), null);
            default:
                // A padded tile spans the whole padded dim, so one must fit one of two SRAM copies.
                var pad = NpuDataMovement.Pad(op, (target.SramBytes / 2) & ~63L);
                return pad.Pad is { } p ? (Pad(p), null) : (null, pad.Why);
        }
    }

    /// <summary>Unit dims dropped, and source dims i, i+1 merged while they stay adjacent under the permutation (as
    /// whole rows move together).</summary>
    private static (long[] Shape, int[] Perm) CollapsePermutation(long[] shape, int[] perm)
    {
        var keep = Enumerable.Range(0, shape.Length).Where(i => shape[i] != 1).ToArray();
        var dims = keep.Select(i => shape[i]).ToList();
        var order = perm.Where(p => shape[p] != 1).Select(p => Array.IndexOf(keep, p)).ToList();
        for (int j = 0; j + 1 < order.Count;)
        {
            int i = order[j];
            if (order[j + 1] != i + 1)
            {
                j++;
                continue;
            }

            dims[i] *= dims[i + 1];
            dims.RemoveAt(i + 1);
            order.RemoveAt(j + 1);
            order = [.. order.Select(q => q > i ? q - 1 : q)];
        }

        return dims.Count == 0 ? ([1], [0]) : ([.. dims], [.. order]);
    }

    /// <summary>A slice as one view: unit dims dropped, and a dim merged into the next while the next is taken whole
    /// with step 1 and it steps by 1 (or takes one element), so the two walk one contiguous run.</summary>
    private static Plan Slice(long[] x, long[] start, long[] step, long[] o)
    {
        var dims = new List<(long X, long Off, long N, long Step)>();
        for (int d = 0; d < x.Length; d++)
        {
            if (x[d] != 1)
            {
                dims.Add((x[d], start[d], o[d], step[d]));
            }
        }

        for (int d = dims.Count - 2; d >= 0; d--)
        {
            var (a, b) = (dims[d], dims[d + 1]);
            if (b.Off == 0 && b.Step == 1 && b.N == b.X && (a.Step == 1 || a.N == 1))
            {
                dims[d] = (a.X * b.X, a.Off * b.X, a.N * b.X, 1);
                dims.RemoveAt(d + 1);
            }
        }

        if (dims.Count == 0)
        {
            dims.Add((1, 0, 1, 1));
        }

        long[] n = [.. dims.Select(d => d.N)];
        bool unit = dims.All(d => d.Step == 1);
        var view = new View([.. dims.Select(d => d.Off)], unit ? null : [.. dims.Select(d => d.Step)], null);
        return new Plan([[.. dims.Select(d => d.X)]], [n], [new Copy(0, view, 0, null, n)]);
    }

    /// <summary>Split and concat along an axis, with the dims before it folded to <c>outer</c> and the axis folded with
    /// the dims after it: each part is an offset view [outer, part·inner] of the whole [outer, total·inner].</summary>
    private static Plan SplitOrConcat(Operation op)
    {
        bool split = op.Name == "graph.split";
        var whole = Shape(split ? op.Operand(0)! : op.Result(0));
        int axis = Axis(op, whole.Length);
        long outer = Prod(whole.Take(axis)), inner = Prod(whole.Skip(axis + 1));
        long[] Bound(long along) => outer == 1 ? [along * inner] : [outer, along * inner];
        var parts = (split ? op.Results.Cast<Value>() : op.Operands.Select(v => v!)).Select(v => Shape(v)[axis]).ToList();
        var copies = new List<Copy>();
        long at = 0;
        for (int j = 0; j < parts.Count; j++)
        {
            var view = new View(outer == 1 ? [at * inner] : [0, at * inner], null, null);
            copies.Add(split ? new Copy(0, view, j, null, Bound(parts[j])) : new Copy(j, null, 0, view, Bound(parts[j])));
            at += parts[j];
        }

        long[][] each = [.. parts.Select(Bound)], all = [Bound(whole[axis])];
        return split ? new Plan(all, each, copies) : new Plan(each, all, copies);
    }

    /// <summary>The input viewed as [outer, n, inner] (inner dropped when 1), loaded padded to the result's shape.</summary>
    private static Plan Pad((long Outer, long N, long Inner, long Before, long After, double Value) p)
    {
        long total = p.Before + p.N + p.After;
        long[] x = p.Inner == 1 ? [p.Outer, p.N] : [p.Outer, p.N, p.Inner], y = p.Inner == 1 ? [p.Outer, total] : [p.Outer, total, p.Inner];
        long[] low = new long[x.Length], high = new long[x.Length];
        (low[1], high[1]) = (p.Before, p.After);
        return new Plan([x], [y], [new Copy(0, null, 0, null, y) { Pad = p.Before + p.After > 0 ? (low, high, p.Value) : null }]);
    }

    /// <summary>SRAM bytes per tile when the op's tiles hold <paramref name="sram"/> bytes in all and its lighter DMA side
    /// (loads or stores) moves <paramref name="lighter"/>: with n tiles the busier queue takes n·latency + its bytes ÷
    /// bandwidth, plus one tile of the other side before or after it, which is least for n = √(lighter ÷ (latency ·
    /// bandwidth)). At most <paramref name="cap"/>.</summary>
    private static long TileBytes(NpuTarget t, long sram, long lighter, long cap)
    {
        double perCycle = (double)(t.DmaBandwidthGBps / t.ClockGHz);
        double n = Math.Max(1, Math.Round(Math.Sqrt(lighter / (t.DmaLatencyCycles * perCycle))));
        return Math.Clamp((long)Math.Ceiling(sram / n), 64, Math.Max(64, cap));
    }

    /// <summary>A tile over the innermost (at most three) dims: whole dims while they fit <paramref name="budget"/>, then
    /// as much of the next as fits; the dims outside it are looped one index at a time.</summary>
    private static long[] TileOf(long[] shape, int e, long budget, int? fixedInner = null)
    {
        int r = Math.Min(3, shape.Length);
        var tile = new List<long>();
        long bytes = e;
        for (int k = shape.Length - 1; k >= shape.Length - r; k--)
        {
            bool must = fixedInner is { } f && k >= shape.Length - f;
            if (must || (shape[k] * bytes <= budget && shape[k] <= MaxDim))
            {
                tile.Insert(0, shape[k]);
                bytes *= shape[k];
                continue;
            }

            tile.Insert(0, Math.Clamp(budget / bytes, 1, Math.Min(shape[k], MaxDim)));
            break;
        }

        while (tile.Count > 1 && tile[0] == 1)
        {
            tile.RemoveAt(0);
        }

        return [.. tile];
    }

    private static void RewriteCopies(Context ctx, NpuTarget target, Operation op, Plan plan) =>
        Replace(op, Copies(ctx, target, op, op.Name, [.. op.Operands.Take(op.Name == "graph.concat" ? op.NumOperands : 1).Select(v => v!)], [.. op.Results.Select(r => r.Type)], plan));

    /// <summary>A dispatch named <paramref name="name"/>, before <paramref name="before"/>, that does <paramref name="plan"/>'s copies.</summary>
    private static Operation Copies(Context ctx, NpuTarget target, Operation before, string name, Value[] inputs, Type[] results, Plan plan)
    {
        var elem = ((TensorType)results[0]).ElementType;
        int e = NpuPlacement.ElementBytes(results[0]);
        var copies = plan.Copies.Where(c => c.Elements > 0).ToList();
        long cap = (target.SramBytes / (2 * Math.Max(1, copies.Count))) & ~63L;
        // A padded load reads only the input's elements; every other copy reads and writes the same bytes.
        long moved = copies.Sum(c => c.Elements) * e, read = copies.Sum(c => c.Pad is null ? c.Elements : c.Elements / c.Shape[1] * (c.Shape[1] - c.Pad.Value.Low[1] - c.Pad.Value.High[1])) * e;
        long budget = TileBytes(target, moved, Math.Min(moved, read), cap);
        // A padded load must see its whole padded dim (and what is inside it), or some tiles would be padding alone.
        var tiles = copies.Select(c => TileOf(c.Shape, e, c.Pad is null ? budget : Math.Max(budget, Prod(c.Shape.Skip(1)) * e), c.Pad is null ? null : c.Shape.Length - 1)).ToList();
        if (tiles.Select(Key).Distinct().Count() > (target.Semaphores / 2) - 1)
        {
            // Too many tile shapes for a semaphore pair each: every copy moves runs of the shortest innermost dim.
            long run = Math.Min(copies.Min(c => c.Shape[^1]), Math.Max(1, budget / e));
            tiles = [.. copies.Select(_ => new[] { run })];
        }

        var (dispatch, body) = TileBuild.Dispatch(ctx, before, name, inputs, results);
        var ins = plan.Inputs.Select((s, i) => TileBuild.Bind(body, s, elem, $"X{i}")).ToList();
        var outs = plan.Results.Select((s, i) => TileBuild.Bind(body, s, elem, $"Y{i}")).ToList();
        var ib = new OpBuilder(ctx);
        ib.SetInsertionPointToEnd(body);
        var loc = before.Location;
        // One double-buffered alloc per tile shape, in first-use order (parts of equal shape share one).
        var allocs = new List<(string Key, Value Buf)>();
        foreach (var t in tiles.Where(t => allocs.All(a => a.Key != Key(t))))
        {
            var type = new MemRefType([.. t.Select(d => new Dim(d))], elem, MemorySpace.Sram);
            var buf = ib.Create(TileDialect.Alloc, loc, [], [type], [new("name", new StringAttr($"buf{allocs.Count}")), new("buffers", IntegerAttr.I64(2))]).Result(0);
            buf.NameHint = $"buf{allocs.Count}";
            allocs.Add((Key(t), buf));
        }

        var zero = TileBuild.Zero(ib, loc);
        for (int i = 0; i < copies.Count; i++)
        {
            var c = copies[i];
            var src = ViewOf(ib, loc, ins[c.SrcArg], c.Src, c.Shape);
            var dst = ViewOf(ib, loc, outs[c.DstArg], c.Dst, c.Shape);
            var buf = allocs.First(a => a.Key == Key(tiles[i])).Buf;
            Loops(ib, loc, c.Shape, tiles[i], zero, (b, idx) =>
            {
                var attrs = c.Pad is { } p
                    ? new List<KeyValuePair<string, Attribute>> { new("high", ArrayAttr.OfInts(p.High)), new("low", ArrayAttr.OfInts(p.Low)), new("padding", PadValue(elem, p.Value)) }
                    : [];
                b.Create(TileDialect.Load, loc, [src, buf, .. idx], [], attrs);
                b.Create(TileDialect.Store, loc, [buf, dst, .. idx], []);
            });
        }

        return dispatch;
    }

    /// <summary>An embedding lookup: a loop over chunks of ids, each loaded into one index tile and its rows gathered into
    /// one of two row buffers, then stored; the gather and the next chunk's ids share the load queue, so the index tile
    /// needs one copy.</summary>
    private static void RewriteGather(Context ctx, NpuTarget target, Operation op, (long Count, long Rows, long Cols) g)
    {
        var elem = ((TensorType)op.Operand(0)!.Type).ElementType;
        long rowBytes = g.Cols * NpuPlacement.ElementBytes(op.Operand(0)!.Type);
        long fit = Math.Max(1, (target.SramBytes - 256) / ((2 * rowBytes) + 8));
        long k = Math.Clamp(TileBytes(target, g.Count * rowBytes, g.Count * rowBytes, long.MaxValue) / rowBytes, 1, Math.Min(Math.Min(fit, MaxDim), Math.Max(1, g.Count)));
        var (dispatch, body) = TileBuild.Dispatch(ctx, op, [op.Operand(0)!, op.Operand(1)!]);
        var i64 = ((TensorType)op.Operand(1)!.Type).ElementType;
        var table = TileBuild.Bind(body, [g.Rows, g.Cols], elem, "table");
        var ids = TileBuild.Bind(body, [g.Count], i64, "ids");
        var y = TileBuild.Bind(body, [g.Count, g.Cols], elem, "Y");
        var ib = new OpBuilder(ctx);
        ib.SetInsertionPointToEnd(body);
        var loc = op.Location;
        var idBuf = ib.Create(TileDialect.Alloc, loc, [], [new MemRefType([new Dim(k)], i64, MemorySpace.Sram)], [new("name", new StringAttr("ids"))]).Result(0);
        idBuf.NameHint = "idtile";
        var rows = TileBuild.Alloc(ib, loc, "rows", k, g.Cols, elem, MemorySpace.Sram, 2);
        var zero = TileBuild.Zero(ib, loc);
        if (g.Count > 0)
        {
            Loops(ib, loc, [g.Count, g.Cols], [k, g.Cols], zero, (b, idx) =>
            {
                b.Create(TileDialect.Load, loc, [ids, idBuf, idx[0]], []);
                b.Create(TileDialect.Gather, loc, [table, idBuf, rows], []);
                b.Create(TileDialect.Store, loc, [rows, y, .. idx], []);
            });
        }

        Replace(op, dispatch);
    }

    private static string Key(long[] tile) => string.Join('x', tile);

    private static Attribute PadValue(Type elem, double v) => elem is FloatType f ? new FloatAttr(v, f) : new IntegerAttr((long)v, elem);

    /// <summary>The binding itself, or a <c>tile.view</c> of it of <paramref name="shape"/>.</summary>
    private static Value ViewOf(OpBuilder b, Location loc, Value binding, View? v, long[] shape) =>
        v is null ? binding : TileBuild.View(b, loc, binding, shape, v.Offsets, v.Steps, v.Perm, binding.NameHint + "v");

    /// <summary>Nested <c>tile.for</c>s over the dims a tile does not cover whole (step: the tile's size there, 1 outside
    /// it), then <paramref name="body"/> with one index per dim.</summary>
    private static void Loops(OpBuilder b, Location loc, long[] shape, long[] tile, Value zero, Action<OpBuilder, Value[]> body)
    {
        var idx = new Value[shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            int k = d - (shape.Length - tile.Length);
            long step = k >= 0 ? tile[k] : 1;
            if (step >= shape[d])
            {
                idx[d] = zero;
                continue;
            }

            (b, idx[d]) = TileBuild.For(b, loc, shape[d], step, $"i{d}");
        }

        body(b, idx);
    }

    /// <summary>Replaces <paramref name="op"/> by the dispatch and drops the constants only it used (slice bounds,
    /// pads, split sizes), which the dispatch has folded into its views.</summary>
    private static void Replace(Operation op, Operation dispatch)
    {
        var operands = op.Operands.Select(v => v!).ToList();
        TileBuild.Replace(op, dispatch);
        foreach (var c in operands.Select(v => v.DefiningOp).OfType<Operation>().Distinct())
        {
            if (c.Name is "arith.constant" or "graph.none" && c.Results.All(r => !r.HasUses))
            {
                c.Erase();
            }
        }
    }
}
