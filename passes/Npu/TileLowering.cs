using Tessera.Dialects.Tile;
using Tessera.Npu;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// Lowers one <c>tile.dispatch</c> to NPU instructions: its loops are unrolled, each <c>tile.alloc</c> becomes SRAM
/// buffers from <see cref="ProgramBuilder.Alloc"/> (accumulators become accumulator rows), and each tile op becomes its
/// instructions on its queue: <c>tile.load</c> a <c>dma.load</c> (the stationary operand re-blocked into array-wide
/// column blocks), <c>tile.mma</c> <c>mm.ldw</c>/<c>mm.mac</c> per column block and array-high chunk of K,
/// <c>tile.drain</c> <c>mm.drain</c>s, <c>tile.store</c> a <c>dma.store</c>. A load of the tile a buffer already holds
/// is dropped.
/// <para>Dependency tokens are inserted here, one protocol for every buffer with N copies: semaphore <c>empty</c>
/// (posted N times up front) and <c>full</c>. Whatever writes a copy (a load, a drain) waits <c>empty</c> with its first
/// instruction and signals <c>full</c> with its last; the first instruction that reads the copy afterwards waits
/// <c>full</c>, the last one before the buffer's next write signals <c>empty</c>. Queues run in order, so each wait takes
/// the token of the write it depends on. The accumulator is used by the matrix queue alone and needs no token.</para>
/// </summary>
public static partial class TileLowering
{
    private sealed partial class Buf(string name, MemRefType type, int copies)
    {
        public string Name { get; } = name;
        public MemRefType Type { get; } = type;
        public int Copies { get; } = copies;
        public long[] Slots { get; set; } = [];
        public int Full { get; set; }
        public int Empty { get; set; }
        public int Writes { get; set; }
        public (Value Mem, string Index, bool Transpose)? Holds { get; set; }

        /// <summary>Read as an mma's stationary operand: stored as array-wide column blocks.</summary>
        public bool Blocked { get; set; }
        public (long Rows, long Cols) Extent { get; set; }
        public long Slot => Slots[(Writes - 1) % Copies];

        /// <summary>Consecutive copies of the tile's one row that each slot holds (<see cref="RowReplicas"/>).</summary>
        public int Replicas { get; set; } = 1;

        /// <summary>The queues that touch the buffer; one queue alone orders its own accesses and needs no token.</summary>
        public SortedSet<string> Queues { get; } = new(StringComparer.Ordinal);

    }

    /// <summary>One unrolled tile op: its kind, buffers and DRAM side (for moves), with the loop indices applied.</summary>
    private sealed partial record Event(string Kind, Buf? Tile, Buf? Tile2, Buf? Acc, Value? Mem, long[] Index, bool Transpose)
    {
        /// <summary>What a tile.vector writes (its other buffers are what it reads).</summary>
        public Buf? Out { get; init; }

        /// <summary>A load's <c>sizes</c>: the tile's part it fills (rows, cols), clipped further at the memref's edge.</summary>
        public (long Rows, long Cols)? Sizes { get; init; }

        public string VectorKind { get; init; } = "";
        public float? Scalar { get; init; }
        public bool Skip { get; set; }
        public bool FirstRead { get; set; }
        public bool FirstRead2 { get; set; }
        public bool LastRead { get; set; }
        public bool LastRead2 { get; set; }

        /// <summary>A vector op writing one of the tiles it reads.</summary>
        public bool InPlace => Out is not null && (ReferenceEquals(Out, Tile) || ReferenceEquals(Out, Tile2));
    }

    /// <summary>Emits the dispatch's instructions (not its entry or <c>end</c>); <paramref name="bindings"/> are the DRAM
    /// buffers of its operands then results. Returns the MACs it does.</summary>
    public static long Emit(ProgramBuilder pb, Operation dispatch, IReadOnlyList<TensorDecl> bindings)
    {
        var t = pb.Target;
        var body = dispatch.Regions[0].EntryBlock!;
        var dram = new Dictionary<Value, TensorDecl>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < body.Arguments.Count; i++)
        {
            dram[body.Arguments[i]] = bindings[i];
        }

        var bufs = new Dictionary<Value, Buf>(ReferenceEqualityComparer.Instance);
        var order = new List<Buf>();   // allocation order: SRAM offsets and semaphores follow it, never the dictionary's
        foreach (var a in dispatch.Walk().Where(o => o.Name == TileDialect.Alloc.Name))
        {
            var buf = new Buf(((StringAttr)a.GetAttr("name")!).Value, (MemRefType)a.Result(0).Type, (int)((a.GetAttr("buffers") as IntegerAttr)?.Value ?? 1));
            bufs[a.Result(0)] = buf;
            order.Add(buf);
        }

        var events = new List<Event>();
        Unroll(body, new Dictionary<Value, long>(ReferenceEqualityComparer.Instance), bufs, events);
        Plan(events);
        RowReplicas(events);

        int sem = 0;
        foreach (var b in order.Where(b => b.Type.Space == MemorySpace.Sram))
        {
            long bytes = b.Type.ElementCount!.Value * Elem(b.Type) * b.Replicas;
            b.Slots = [.. Enumerable.Range(0, b.Copies).Select(i => pb.Alloc($"{b.Name}{i}", bytes))];
            if (b.Queues.Count > 1)
            {
                (b.Full, b.Empty) = (++sem, ++sem);
            }
        }

        var vectorOps = events.Where(e => e.Kind is "vector" or "reduce" or "causal").ToList();
        bool carriers = vectorOps.Any(e => new[] { e.Tile, e.Tile2, e.Out }.Any(b => b is not null && b.Queues.Count > 1 && IsF32(b.Type)));
        var scratch = VectorScratch.Plan(pb, vectorOps.Select(e => (e.Kind == "vector" ? e.VectorKind : e.Kind, e.Tile!.Type, e.Tile2?.Type, e.Out!.Type, e.Scalar)), carriers, () => ++sem);

        if (sem > t.Semaphores)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"the dispatch needs {sem} semaphores; target {t.Name} has {t.Semaphores}");
        }

        var e = new Emitter(pb, dram, scratch);
        pb.Comment($"tile.dispatch of {((StringAttr)dispatch.GetAttr("op")!).Value}: {events.Count(x => x.Kind == "mma")} tile products");
        foreach (var b in order.Where(b => b.Type.Space == MemorySpace.Sram && b.Empty > 0))
        {
            pb.Line($"sem.post sem={b.Empty} count={b.Copies}");
        }

        scratch.LoadConstants();

        foreach (var b in order)
        {
            b.Writes = 0;
            b.Holds = null;
        }

        long macs = 0;
        foreach (var ev in events)
        {
            macs += e.Emit(ev);
        }

        return macs;
    }

    private static void Unroll(Block block, Dictionary<Value, long> env, Dictionary<Value, Buf> bufs, List<Event> events)
    {
        foreach (var op in block.Operations)
        {
            long[] Idx(int from) => [.. op.Operands.Skip(from).Select(v => env.TryGetValue(v!, out long x) ? x : Const(v!))];
            switch (op.Name)
            {
                case "tile.for":
                    long lo = Attr(op, "lower"), hi = Attr(op, "upper"), step = Attr(op, "step");
                    var inner = op.Regions[0].EntryBlock!;
                    for (long i = lo; i < hi; i += step)
                    {
                        env[inner.Arguments[0]] = i;
                        Unroll(inner, env, bufs, events);
                    }

                    break;
                case "tile.load" or "tile.store" or "tile.gather" or "tile.view" when IsMoveOp(op):
                    AddMove(op, bufs, () => Idx(2), events);
                    break;
                case "tile.load":
                    events.Add(new Event("load", bufs[op.Operand(1)!], null, null, op.Operand(0), Idx(2), op.GetAttr("transpose") is not null)
                    {
                        Sizes = op.GetAttr("sizes") is ArrayAttr { Elements: [IntegerAttr r, IntegerAttr c] } ? (r.Value, c.Value) : null,
                    });
                    break;
                case "tile.store":
                    events.Add(new Event("store", bufs[op.Operand(0)!], null, null, op.Operand(1), Idx(2), op.GetAttr("transpose") is not null));
                    break;
                case "tile.mma":
                    bufs[op.Operand(1)!].Blocked = true;
                    events.Add(new Event("mma", bufs[op.Operand(0)!], bufs[op.Operand(1)!], bufs[op.Operand(2)!], null, Idx(3), false));
                    break;
                case "tile.drain":
                    events.Add(new Event("drain", bufs[op.Operand(1)!], null, bufs[op.Operand(0)!], null, [], false));
                    break;
                case "tile.vector":
                    events.Add(new Event("vector", bufs[op.Operand(0)!], op.NumOperands > 2 ? bufs[op.Operand(1)!] : null, null, null, [], false)
                    {
                        Out = bufs[op.Operand(op.NumOperands - 1)!], VectorKind = ((StringAttr)op.GetAttr("kind")!).Value,
                        Scalar = op.GetAttr("scalar") is FloatAttr f ? (float)f.Value : null,
                    });
                    break;
                case "tile.reduce":
                    events.Add(new Event("reduce", bufs[op.Operand(0)!], null, null, null, [], false)
                    {
                        Out = bufs[op.Operand(1)!], VectorKind = ((StringAttr)op.GetAttr("kind")!).Value,
                    });
                    break;
                case "tile.causal":
                    events.Add(new Event("causal", bufs[op.Operand(0)!], null, null, null, [Attr(op, "offset"), Attr(op, "period")], false) { Out = bufs[op.Operand(0)!] });
                    break;
                case "tile.alloc" or "arith.constant":
                    break;
                default:
                    throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported, $"NPU lowering: no NPU code for {op.Name} in a tile.dispatch", op.Location));
            }
        }
    }

    /// <summary>Drops loads of the tile a buffer already holds, and marks each read that is the first after a write
    /// (it waits <c>full</c>) or the last before the next write (it signals <c>empty</c>).</summary>
    private static void Plan(List<Event> events)
    {
        var lastRead = new Dictionary<Buf, (Event Ev, bool Second)>();
        void Write(Buf b, (Value, string, bool)? what)
        {
            if (lastRead.Remove(b, out var r))
            {
                _ = r.Second ? r.Ev.LastRead2 = true : r.Ev.LastRead = true;
            }

            b.Holds = what;
        }

        var fresh = new HashSet<Buf>();
        void Read(Buf b, Event ev, bool second)
        {
            if (fresh.Remove(b))
            {
                _ = second ? ev.FirstRead2 = true : ev.FirstRead = true;
            }

            lastRead[b] = (ev, second);
        }

        foreach (var ev in events)
        {
            string queue = ev.Kind switch { "load" => "load", "store" => "store", "mma" or "drain" => "matrix", _ => "vector" };
            foreach (var b in new[] { ev.Tile, ev.Tile2, ev.Out })
            {
                b?.Queues.Add(queue);
            }

            switch (ev.Kind)
            {
                case "load":
                    var key = (ev.Mem!, string.Join(',', ev.Index) + (ev.Sizes is { } sz ? $"/{sz.Rows}x{sz.Cols}" : ""), ev.Transpose);
                    if (ev.Tile!.Holds is { } h && ReferenceEquals(h.Mem, key.Item1) && (h.Index, h.Transpose) == (key.Item2, key.Item3))
                    {
                        ev.Skip = true;
                        break;
                    }

                    Write(ev.Tile, key);
                    fresh.Add(ev.Tile);
                    break;
                case "drain" or "gather":
                    Write(ev.Tile!, null);
                    fresh.Add(ev.Tile!);
                    break;
                case "mma":
                    Read(ev.Tile!, ev, false);
                    Read(ev.Tile2!, ev, true);
                    break;
                case "store":
                    Read(ev.Tile!, ev, false);
                    break;
                case "vector" or "reduce" or "causal":
                    Read(ev.Tile!, ev, false);
                    if (ev.Tile2 is { } second)
                    {
                        Read(second, ev, true);
                    }

                    // An op updating a tile in place reads it; only a new value (another tile) is a write.
                    if (!ev.InPlace)
                    {
                        Write(ev.Out!, null);
                        fresh.Add(ev.Out!);
                    }

                    break;
            }
        }

        foreach (var (ev, second) in lastRead.Values)
        {
            _ = second ? ev.LastRead2 = true : ev.LastRead = true;
        }
    }

    private static long Attr(Operation op, string name) => ((IntegerAttr)op.GetAttr(name)!).Value;

    private static long Const(Value v) => v.DefiningOp is { Name: "arith.constant" } c && c.GetAttr("value") is IntegerAttr i ? i.Value
        : throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported, "NPU lowering: a tile index must be a loop variable or a constant", v.Location));

    public static int Elem(ShapedType t) => NpuPlacement.BytesOf(t.ElementType) is var n and > 0 ? n
        : throw NpuCodes.Error(NpuCodes.LowerUnsupported, "tile", $"no NPU tiles of {t.ElementType}");

    /// <summary>The ISA's name of a tile's element type (a bool is a byte the vector unit reads as i8).</summary>
    private static string TypeName(ShapedType t) => t.ElementType is IntegerType { Width: 1 } ? "i8" : t.ElementType.Text;

    /// <summary>Writes the instructions of each event, with the tokens <see cref="Plan"/> decided.</summary>
    private sealed partial class Emitter(ProgramBuilder pb, Dictionary<Value, TensorDecl> dram, VectorScratch scratch)
    {
        private readonly Tessera.Npu.Target.NpuTarget _t = pb.Target;

        private static string Sync(int wait, int signal) => ProgramBuilder.Sync(wait, signal);

        public long Emit(Event ev)
        {
            switch (ev.Kind)
            {
                case "load" or "store" or "gather" when ev.Move is not null:
                    EmitMove(pb, dram, ev);
                    return 0;
                case "load" when !ev.Skip:
                    Load(ev);
                    return 0;
                case "load":
                    return 0;
                case "mma":
                    return Mma(ev);
                case "drain":
                    Drain(ev);
                    return 0;
                case "vector":
                    Vector(ev);
                    return 0;
                case "reduce":
                    Reduce(ev);
                    return 0;
                case "causal":
                    Causal(ev);
                    return 0;
                default:
                    Store(ev);
                    return 0;
            }
        }

        /// <summary>The DRAM memref's last two dims (a binding views its tensor in this shape).</summary>
        private static (long Rows, long Cols) Dims(Value mem)
        {
            var s = ((MemRefType)mem.Type).Shape!;
            return (s[^2].Size, s[^1].Size);
        }

        /// <summary>The DRAM address of element <paramref name="idx"/> of a row-major memref.</summary>
        private long Address(Value mem, long[] idx)
        {
            var shape = ((MemRefType)mem.Type).Shape!;
            long offset = 0;
            for (int d = 0; d < shape.Count; d++)
            {
                offset = (offset * shape[d].Size) + idx[d];
            }

            return dram[mem].DramAddress + (offset * Elem((MemRefType)mem.Type));
        }

        /// <summary>The clipped tile: (rows, cols) of the SRAM tile, and the DRAM address of its first element.</summary>
        private (long Rows, long Cols, long Dram) Clip(Buf b, Value mem, long[] idx, bool tr)
        {
            var (sr, sc) = Dims(mem);
            var shape = b.Type.Shape!;
            long rows = shape[^2].Size, cols = shape[^1].Size, r0 = idx[^2], c0 = idx[^1];
            // Transposed, the tile's rows are the source block's columns.
            return tr ? (Math.Min(rows, sc - c0), Math.Min(cols, sr - r0), Address(mem, idx)) : (Math.Min(rows, sr - r0), Math.Min(cols, sc - c0), Address(mem, idx));
        }

        private void Load(Event ev)
        {
            var b = ev.Tile!;
            int e = Elem(b.Type);
            var (rows, cols, at) = Clip(b, ev.Mem!, ev.Index, ev.Transpose);
            if (ev.Sizes is { } sizes)
            {
                (rows, cols) = (Math.Min(rows, sizes.Rows), Math.Min(cols, sizes.Cols));
            }

            long srcRow = Dims(ev.Mem!).Cols * e;
            b.Writes++;
            b.Extent = (rows, cols);
            var xfers = new List<(int Desc, long Sram, long Dram)>();
            if (b.Blocked)
            {
                // Array-wide column blocks, each a contiguous rows x width tile, so every mm.ldw reads one block.
                int width = _t.MatrixCols;
                long full = cols / width, rem = cols % width, blockStep = ev.Transpose ? width * srcRow : width * e;
                if (full > 0)
                {
                    xfers.Add((ev.Transpose ? pb.Desc(e, (int)full, width, (int)rows, blockStep, srcRow, e, rows * width * e, width * e, e, transpose: true)
                                            : pb.Desc(e, (int)full, (int)rows, width, blockStep, srcRow, e, rows * width * e, width * e, e), b.Slot, at));
                }

                if (rem > 0)
                {
                    xfers.Add((ev.Transpose ? pb.Desc(e, 1, (int)rem, (int)rows, 0, srcRow, e, 0, rem * e, e, transpose: true)
                                            : pb.Desc(e, 1, (int)rows, (int)rem, 0, srcRow, e, 0, rem * e, e), b.Slot + (full * rows * width * e), at + (full * blockStep)));
                }
            }
            else if (ev.Transpose)
            {
                xfers.Add((pb.Desc(e, 1, (int)cols, (int)rows, 0, srcRow, e, 0, cols * e, e, transpose: true), b.Slot, at));
            }
            else
            {
                xfers.AddRange(RowMajor(e, rows, cols, srcRow, b.Slot, at));
            }

            for (int i = 0; i < xfers.Count; i++)
            {
                var (d, s, m) = xfers[i];
                pb.Line($"dma.load desc={d} sram=0x{s:x} dram=0x{m:x}{Sync(i == 0 ? b.Empty : 0, i == xfers.Count - 1 ? b.Full : 0)}");
            }
        }

        private long Mma(Event ev)
        {
            Buf s = ev.Tile!, w = ev.Tile2!;
            int e = Elem(s.Type), rows = _t.MatrixRows, width = _t.MatrixCols;
            long ps = s.Extent.Rows, ks = s.Extent.Cols, qs = w.Extent.Cols;
            string type = TypeName(s.Type);
            long full = qs / width, rem = qs % width;
            int blocks = (int)(full + (rem > 0 ? 1 : 0)), chunks = TileCostModel.Ceil((int)ks, rows);
            for (int blk = 0; blk < blocks; blk++)
            {
                long n = blk < full ? width : rem;
                long wBase = w.Slot + (blk * ks * width * e);
                for (int j = 0; j < chunks; j++)
                {
                    long kr = Math.Min(rows, ks - (j * rows));
                    bool first = blk == 0 && j == 0, last = blk == blocks - 1 && j == chunks - 1;
                    pb.Line($"mm.ldw src=0x{wBase + (j * rows * n * e):x} k={kr} n={n} type={type}{Sync(first && ev.FirstRead2 ? w.Full : 0, last && ev.LastRead2 ? w.Empty : 0)}");
                    int acc = (ev.Index[0] > 0 || j > 0) ? 1 : 0;
                    pb.Line($"mm.mac src=0x{s.Slot + (j * rows * e):x} acc=0x{blk * ps:x} m={ps} k={kr} stride={ks * e} accumulate={acc} type={type}{Sync(first && ev.FirstRead ? s.Full : 0, last && ev.LastRead ? s.Empty : 0)}");
                }
            }

            ev.Acc!.Extent = (ps, qs);
            return ps * qs * ks;
        }

        private void Drain(Event ev)
        {
            var x = ev.Tile!;
            int e = Elem(x.Type), width = _t.MatrixCols;
            var (ps, qs) = ev.Acc!.Extent;
            x.Writes++;
            x.Extent = (ps, qs);
            long full = qs / width, rem = qs % width;
            int blocks = (int)(full + (rem > 0 ? 1 : 0));
            for (int blk = 0; blk < blocks; blk++)
            {
                long n = blk < full ? width : rem;
                pb.Line($"mm.drain acc=0x{blk * ps:x} dst=0x{x.Slot + (blk * width * e):x} m={ps} n={n} stride={qs * e} mode={TypeName(x.Type)}{Sync(blk == 0 ? x.Empty : 0, blk == blocks - 1 ? x.Full : 0)}");
            }
        }

        /// <summary>A dense rows × cols tile in SRAM and its block of DRAM rows <paramref name="dramRow"/> bytes apart, in
        /// transfers whose dims stay within the DMA's 65535: blocks of rows, or pieces of one row when it is longer.</summary>
        private List<(int Desc, long Sram, long Dram)> RowMajor(int e, long rows, long cols, long dramRow, long sram, long dram)
        {
            const long max = VectorCode.MaxN;
            var xfers = new List<(int, long, long)>();
            if (cols <= max)
            {
                for (long r = 0; r < rows; r += max)
                {
                    xfers.Add((pb.Desc(e, 1, (int)Math.Min(max, rows - r), (int)cols, 0, dramRow, e, 0, cols * e, e), sram + (r * cols * e), dram + (r * dramRow)));
                }

                return xfers;
            }

            for (long r = 0; r < rows; r++)
            {
                for (long c = 0; c < cols; c += max)
                {
                    xfers.Add((pb.Desc(e, 1, 1, (int)Math.Min(max, cols - c), 0, dramRow, e, 0, cols * e, e), sram + (((r * cols) + c) * e), dram + (r * dramRow) + (c * e)));
                }
            }

            return xfers;
        }

        private void Store(Event ev)
        {
            var x = ev.Tile!;
            int e = Elem(x.Type);
            var (ps, qs) = x.Extent;
            long dstRow = Dims(ev.Mem!).Cols * e;
            long at = Address(ev.Mem!, ev.Index);
            // Transposed, element (i, j) of the tile goes to row j, column i of the block: swapped DRAM strides.
            var xfers = ev.Transpose ? [(pb.Desc(e, 1, (int)ps, (int)qs, 0, e, dstRow, 0, qs * e, e), x.Slot, at)] : RowMajor(e, ps, qs, dstRow, x.Slot, at);
            for (int i = 0; i < xfers.Count; i++)
            {
                var (d, s, m) = xfers[i];
                pb.Line($"dma.store desc={d} sram=0x{s:x} dram=0x{m:x}{Sync(i == 0 && ev.FirstRead ? x.Full : 0, i == xfers.Count - 1 && ev.LastRead ? x.Empty : 0)}");
            }
        }
    }
}
