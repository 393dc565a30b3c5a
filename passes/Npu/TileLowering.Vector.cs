using Tessera.Npu;
using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// <c>tile.vector</c>, <c>tile.reduce</c> and <c>tile.causal</c> on the vector unit, which computes in fp32: an f16/bf16
/// operand is converted into an fp32 scratch tile first, and an f16/bf16 destination is converted from one last, so each
/// op rounds once; that <c>v.cvt</c> takes the tile's tokens when another queue also touches it. An f32 tile another
/// queue touches (a drained accumulator) is read or written in place, and its tokens go on the op's first or last
/// instruction when that is a vector instruction outside any row loop, else on a one-word carrier
/// (<see cref="Emitter.Place"/>). f32 tiles only the vector queue touches are its work buffers and need no tokens.
/// </summary>
public static partial class TileLowering
{
    /// <summary>The vector unit's fp32 scratch tiles, a word for combining the pieces of a long reduction, and the
    /// dispatch's scalar constants (from the constant pool, loaded once).</summary>
    private sealed class VectorScratch
    {
        private readonly ProgramBuilder _pb;
        private readonly List<float> _consts = [];

        /// <summary>Causal mask rows in <see cref="_consts"/>: (tile width, index of the row's first value).</summary>
        private readonly List<(long Width, int At)> _rows = [];
        private long _constRaw, _constDram;
        private int _constSem;

        private VectorScratch(ProgramBuilder pb) => _pb = pb;

        public long[] F32 { get; } = [-1, -1];
        public long Tmp { get; private set; } = -1;

        /// <summary>A word that carries tokens no instruction of an op can take (see <see cref="Emitter.Place"/>).</summary>
        public long Sync { get; private set; } = -1;
        public long Consts { get; private set; } = -1;

        /// <summary>Sizes the scratch for <paramref name="ops"/> (the vector kind, or reduce/causal; a, b, dst, scalar) and
        /// allocates it, with the carrier word when <paramref name="carriers"/>; a new semaphore from <paramref name="newSem"/>
        /// orders the constants' load before their first use.</summary>
        public static VectorScratch Plan(ProgramBuilder pb, IEnumerable<(string Kind, MemRefType A, MemRefType? B, MemRefType Dst, float? Scalar)> ops, bool carriers, Func<int> newSem)
        {
            var s = new VectorScratch(pb);
            long first = 0, second = 0;
            bool tmp = false;
            foreach (var (kind, a, b, dst, scalar) in ops)
            {
                if (kind == "causal")
                {
                    long width = a.Shape![^1].Size;
                    if (!s._rows.Any(r => r.Width == width))
                    {
                        s._rows.Add((width, s._consts.Count));
                        s._consts.AddRange(Enumerable.Repeat(0f, (int)width).Concat(Enumerable.Repeat(-1e30f, (int)width)));
                    }

                    continue;
                }

                if (kind == "reduce")
                {
                    tmp |= a.Shape![^1].Size > VectorCode.MaxN;
                    continue;
                }

                if (kind == "copy" && IsF32(a) != IsF32(dst))
                {
                    continue;   // one v.cvt, no fp32 step
                }

                if (!IsF32(a) || !IsF32(dst))
                {
                    first = Math.Max(first, a.ElementCount!.Value);
                }

                if (b is not null && !IsF32(b))
                {
                    second = Math.Max(second, b.ElementCount!.Value);
                }

                if (scalar is { } v && !s._consts.Any(c => BitConverter.SingleToInt32Bits(c) == BitConverter.SingleToInt32Bits(v)))
                {
                    s._consts.Add(v);
                }
            }

            s.F32[0] = first > 0 ? pb.Alloc("f32.0", 4 * first) : -1;
            s.F32[1] = second > 0 ? pb.Alloc("f32.1", 4 * second) : -1;
            s.Tmp = tmp ? pb.Alloc("tmp", 4) : -1;
            s.Sync = carriers ? pb.Alloc("sync", 4) : -1;
            if (s._consts.Count > 0)
            {
                s._constDram = pb.ConstF32([.. s._consts]);
                s._constRaw = pb.Alloc("consts.in", 4L * s._consts.Count);
                s.Consts = pb.Alloc("consts", 4L * s._consts.Count);
                s._constSem = newSem();
            }

            return s;
        }

        /// <summary>Loads the constants and copies them into the vector queue's own buffer (the copy takes the token).</summary>
        public void LoadConstants()
        {
            if (Consts < 0)
            {
                return;
            }

            int n = _consts.Count;
            _pb.Line($"dma.load desc={_pb.Rows(4, 1, n, 4L * n, 4L * n)} sram=0x{_constRaw:x} dram=0x{_constDram:x}{ProgramBuilder.Sync(0, _constSem)}");
            _pb.Line($"v.copy dst=0x{Consts:x} a=0x{_constRaw:x} n={n}{ProgramBuilder.Sync(_constSem, 0)}");
        }

        public long Const(float v) => Consts + (4L * _consts.FindIndex(c => BitConverter.SingleToInt32Bits(c) == BitConverter.SingleToInt32Bits(v)));

        /// <summary>The SRAM address of <paramref name="width"/> zeros followed by <paramref name="width"/> × −1e30.</summary>
        public long MaskRow(long width) => Consts + (4L * _rows.First(r => r.Width == width).At);
    }

    private static bool IsF32(ShapedType t) => t.ElementType is FloatType { Width: 32 };

    /// <summary>
    /// Gives each f32 row tile that a <c>tile.vector</c> broadcasts over several rows (b [1 x C], C ≥ 2, of an a [R x C])
    /// room for <see cref="VectorCode.RowCopies"/> consecutive copies of its row, which the vector queue fills after
    /// every write of the tile: one instruction then applies the row to that many rows instead of one per row (a row
    /// loop pays the vector startup per row). Only a one-copy tile that the vector queue alone touches, so every write
    /// of it is a <c>tile.vector</c> this lowering follows with the copies.
    /// </summary>
    private static void RowReplicas(List<Event> events)
    {
        foreach (var ev in events.Where(e => e.Kind == "vector" && e.Tile2 is not null))
        {
            var (a, b) = (ev.Tile!.Type.Shape!, ev.Tile2!.Type.Shape!);
            if (a.Count == 2 && b.Count == 2 && a[0].Size >= 2 && b[0].Size == 1 && b[1].Size == a[1].Size && a[1].Size >= 2
                && IsF32(ev.Tile2.Type) && ev.Tile2.Copies == 1 && ev.Tile2.Queues.SetEquals(["vector"]))
            {
                ev.Tile2.Replicas = Math.Max(ev.Tile2.Replicas, VectorCode.RowCopies(a[0].Size, a[1].Size));
            }
        }
    }

    private sealed partial class Emitter
    {
        private readonly VectorCode _v = new(pb);

        /// <summary>An operand's fp32 address: an f16/bf16 tile is converted into scratch <paramref name="slot"/> by a
        /// <c>v.cvt</c> that takes its tokens; an f32 tile is read in place, its tokens left to <see cref="Place"/>.</summary>
        private VAddr Operand(Buf x, int slot, bool firstRead, bool lastRead, List<int> waits, List<int> signals)
        {
            if (IsF32(x.Type))
            {
                Touch(x, firstRead, lastRead, waits, signals);
                return x.Slot;
            }

            _v.Synced([.. VectorCode.CvtLines(scratch.F32[slot], x.Slot, x.Extent.Rows * x.Extent.Cols, TypeName(x.Type), "f32")], firstRead ? x.Full : 0, lastRead ? x.Empty : 0);
            return scratch.F32[slot];
        }

        /// <summary>The tokens of a tile another queue also touches, read here (first read: wait full; last: signal empty).</summary>
        private static void Touch(Buf x, bool firstRead, bool lastRead, List<int> waits, List<int> signals)
        {
            if (x.Full != 0 && firstRead)
            {
                waits.Add(x.Full);
            }

            if (x.Empty != 0 && lastRead)
            {
                signals.Add(x.Empty);
            }
        }

        /// <summary>Starts a write of <paramref name="o"/> (the next copy, or the same one in place) and returns where it goes.</summary>
        private static long Write(Buf o, (long Rows, long Cols) extent, List<int> waits, List<int> signals, bool inPlace = false)
        {
            if (inPlace)
            {
                return o.Slot;
            }

            o.Writes++;
            o.Extent = extent;
            if (o.Full != 0 && IsF32(o.Type))
            {
                waits.Add(o.Empty);
                signals.Add(o.Full);
            }

            return o.Slot;
        }

        /// <summary>Writes an event's lines with its remaining tokens: each wait on the first line and each signal on the
        /// last, when that line is a vector instruction outside any row loop whose field is free; otherwise on a one-word
        /// <c>v.copy</c> before (waits) or after (signals), so no token is taken or given once per loop iteration.</summary>
        private void Place(List<string> lines, List<int> waits, List<int> signals)
        {
            static bool Free(string line, string field) => line.StartsWith("v.", StringComparison.Ordinal) && !line.Contains($" {field}=", StringComparison.Ordinal);
            string Carrier(string field, int sem) => $"v.copy dst=0x{scratch.Sync:x} a=0x{scratch.Sync:x} n=1 {field}={sem}";
            var pre = new List<string>();
            var post = new List<string>();
            foreach (int w in waits)
            {
                if (lines.Count > 0 && Free(lines[0], "wait"))
                {
                    lines[0] += $" wait={w}";
                }
                else
                {
                    pre.Add(Carrier("wait", w));
                }
            }

            foreach (int sg in signals)
            {
                if (lines.Count > 0 && Free(lines[^1], "signal"))
                {
                    lines[^1] += $" signal={sg}";
                }
                else
                {
                    post.Add(Carrier("signal", sg));
                }
            }

            foreach (var line in pre.Concat(lines).Concat(post))
            {
                pb.Line(line);
            }
        }

        private void Vector(Event ev)
        {
            var waits = new List<int>();
            var signals = new List<int>();
            Place(_v.Collect(() =>
            {
                VectorBody(ev, waits, signals);
                if (ev.Out!.Replicas > 1)
                {
                    _v.ReplicateRow(ev.Out.Slot, ev.Out.Extent.Cols, ev.Out.Replicas);
                }
            }), waits, signals);
        }

        private void VectorBody(Event ev, List<int> waits, List<int> signals)
        {
            Buf a = ev.Tile!, o = ev.Out!;
            var (rows, cols) = a.Extent;
            long n = rows * cols;
            string kind = ev.VectorKind;

            // A conversion needs no fp32 step between the two types: one v.cvt, which takes the narrow side's tokens.
            if (kind == "copy" && IsF32(a.Type) != IsF32(o.Type))
            {
                int wait = 0, signal = 0;
                if (IsF32(a.Type))
                {
                    Touch(a, ev.FirstRead, ev.LastRead, waits, signals);
                }
                else
                {
                    (wait, signal) = (ev.FirstRead ? a.Full : 0, ev.LastRead ? a.Empty : 0);
                }

                long from = a.Slot, to = Write(o, (rows, cols), waits, signals, ev.InPlace);
                if (!IsF32(o.Type))
                {
                    (wait, signal) = (o.Empty, o.Full);
                }

                _v.Synced([.. VectorCode.CvtLines(to, from, n, TypeName(a.Type), TypeName(o.Type))], wait, signal);
                return;
            }

            VAddr x = Operand(a, 0, ev.FirstRead, ev.LastRead, waits, signals);
            VAddr? y = ev.Tile2 is { } b ? Operand(b, 1, ev.FirstRead2, ev.LastRead2, waits, signals) : null;
            var bExtent = ev.Tile2?.Extent;
            long slot = Write(o, (rows, cols), waits, signals, ev.InPlace);
            VAddr dst = IsF32(o.Type) ? slot : scratch.F32[0];
            if (ev.Scalar is { } c)
            {
                _v.Bin(kind, dst, x, scratch.Const(c), n, bcast: true);
            }
            else if (y is not { } yb)
            {
                if (kind != "copy" || dst != x)
                {
                    _v.Un(kind, dst, x, n);
                }
            }
            else if (bExtent == (rows, cols))
            {
                _v.Bin(kind, dst, x, yb, n);
            }
            else if (bExtent == (1, 1))
            {
                _v.Bin(kind, dst, x, yb, n, bcast: true);
            }
            else if (bExtent is var (br, bcols) && bcols == cols && br > 1 && rows % br == 0)
            {
                // Rows of b repeating down a: one dense op per repetition.
                for (long r = 0; r < rows; r += br)
                {
                    _v.Bin(kind, dst + (4 * r * cols), x + (4 * r * cols), yb, br * cols);
                }
            }
            else if (bExtent == (rows, 1))
            {
                _v.Rows((int)rows, 4 * cols, () => _v.Bin(kind, VAddr.R1(dst.Off), VAddr.R1(x.Off), VAddr.R2(yb.Off), cols, bcast: true));
            }
            else if (ev.Tile2!.Replicas > 1 && bExtent == (1, cols))
            {
                // b's row is there Replicas times in a row: one instruction per that many rows.
                int copies = ev.Tile2.Replicas;
                long groups = rows / copies, step = 4L * copies * cols, rest = rows % copies;
                if (groups > 1)
                {
                    _v.Rows((int)groups, step, () => _v.Bin(kind, VAddr.R1(dst.Off), VAddr.R1(x.Off), yb, copies * cols));
                }
                else if (groups == 1)
                {
                    _v.Bin(kind, dst, x, yb, copies * cols);
                }

                if (rest > 0)
                {
                    _v.Bin(kind, dst + (groups * step), x + (groups * step), yb, rest * cols);
                }
            }
            else
            {
                _v.Rows((int)rows, 4 * cols, () => _v.Bin(kind, VAddr.R1(dst.Off), VAddr.R1(x.Off), yb, cols));
            }

            if (!IsF32(o.Type))
            {
                _v.Synced([.. VectorCode.CvtLines(slot, dst, n, "f32", TypeName(o.Type))], o.Empty, o.Full);
            }
        }

        /// <summary>Row r of the scores sees keys j ≤ (r mod period) + offset: the rest get −1e30 added from a constant row of
        /// cols zeros then cols × −1e30, read at the window that starts cols − visible into it.</summary>
        private void Causal(Event ev)
        {
            var waits = new List<int>();
            var signals = new List<int>();
            Place(_v.Collect(() =>
            {
                Buf a = ev.Tile!;
                Touch(a, ev.FirstRead, ev.LastRead, waits, signals);
                var (rows, cols) = a.Extent;
                long offset = ev.Index[0], period = ev.Index[1], width = a.Type.Shape![^1].Size, row = scratch.MaskRow(width);
                for (long r = 0; r < rows; r++)
                {
                    long visible = (r % period) + offset + 1;
                    if (visible < cols)
                    {
                        long at = a.Slot + (r * cols * 4);
                        _v.Bin("add", at, at, row + (4 * (width - Math.Max(visible, 0))), cols);
                    }
                }
            }), waits, signals);
        }

        private void Reduce(Event ev)
        {
            var waits = new List<int>();
            var signals = new List<int>();
            Place(_v.Collect(() =>
            {
                Buf a = ev.Tile!, o = ev.Out!;
                Touch(a, ev.FirstRead, ev.LastRead, waits, signals);
                var (rows, cols) = a.Extent;
                string op = ev.VectorKind == "sum" ? "rsum" : "rmax";
                long src = a.Slot, dst = Write(o, (rows, 1), waits, signals);
                if (rows == 1)
                {
                    _v.Reduce(op, dst, src, cols, scratch.Tmp);
                }
                else
                {
                    _v.Rows((int)rows, 4 * cols, () => _v.Reduce(op, VAddr.R2(dst), VAddr.R1(src), cols, scratch.Tmp));
                }
            }), waits, signals);
        }
    }
}
