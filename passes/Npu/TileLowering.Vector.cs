using Tessera.Npu;
using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// <c>tile.vector</c> and <c>tile.reduce</c> on the vector unit, which computes in fp32: an f16/bf16 operand is converted
/// into an fp32 scratch tile first, and an f16/bf16 destination is converted from one last, so each op rounds once. f32
/// tiles are the vector queue's own work buffers. A tile another queue also touches (a load's or a store's) is therefore
/// always read or written by a <c>v.cvt</c>, which carries its tokens; none lands inside a row loop.
/// </summary>
public static partial class TileLowering
{
    /// <summary>The vector unit's fp32 scratch tiles, a word for combining the pieces of a long reduction, and the
    /// dispatch's scalar constants (from the constant pool, loaded once).</summary>
    private sealed class VectorScratch
    {
        private readonly ProgramBuilder _pb;
        private readonly List<float> _consts = [];
        private long _constRaw, _constDram;
        private int _constSem;

        private VectorScratch(ProgramBuilder pb) => _pb = pb;

        public long[] F32 { get; } = [-1, -1];
        public long Tmp { get; private set; } = -1;
        public long Consts { get; private set; } = -1;

        /// <summary>Sizes the scratch for <paramref name="ops"/> (vector kind or "reduce", a, b, dst, scalar) and allocates it; a new
        /// semaphore from <paramref name="newSem"/> orders the constants' load before their first use.</summary>
        public static VectorScratch Plan(ProgramBuilder pb, IEnumerable<(string Kind, MemRefType A, MemRefType? B, MemRefType Dst, float? Scalar)> ops, Func<int> newSem)
        {
            var s = new VectorScratch(pb);
            long first = 0, second = 0;
            bool tmp = false;
            foreach (var (kind, a, b, dst, scalar) in ops)
            {
                if (kind == "reduce")
                {
                    tmp |= a.Shape![^1].Size > VectorCode.MaxN;
                    continue;
                }

                if (kind == "copy" && IsF32(a) != IsF32(dst))
                {
                    continue;   // a conversion goes straight from one tile to the other (Vector)
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

        /// <summary>An operand's fp32 address: the tile itself if f32 (the vector queue's own), otherwise its conversion
        /// into scratch <paramref name="slot"/>, which takes the tile's tokens.</summary>
        private VAddr Operand(Buf x, int slot, bool firstRead, bool lastRead)
        {
            if (IsF32(x.Type))
            {
                Own(x);
                return x.Slot;
            }

            _v.Synced([.. VectorCode.CvtLines(scratch.F32[slot], x.Slot, x.Extent.Rows * x.Extent.Cols, TypeName(x.Type), "f32")], firstRead ? x.Full : 0, lastRead ? x.Empty : 0);
            return scratch.F32[slot];
        }

        /// <summary>An f32 tile is the vector queue's alone: nothing could carry its tokens outside a row loop.</summary>
        private static void Own(Buf x)
        {
            if (x.Full != 0)
            {
                throw NpuCodes.Error(NpuCodes.LowerUnsupported, "tile", $"f32 tile {x.Name} is moved by another queue; only f16/bf16 tiles move between DMA and the vector unit");
            }
        }

        private void Vector(Event ev)
        {
            Compute(ev);
            if (ev.Out!.Replicas > 1)
            {
                _v.ReplicateRow(ev.Out.Slot, ev.Out.Extent.Cols, ev.Out.Replicas);
            }
        }

        private void Compute(Event ev)
        {
            Buf a = ev.Tile!, o = ev.Out!;
            var (rows, cols) = a.Extent;
            long n = rows * cols;
            string kind = ev.VectorKind;

            // A conversion needs no fp32 step between the two types.
            if (kind == "copy" && IsF32(a.Type) != IsF32(o.Type))
            {
                int wait = IsF32(a.Type) ? 0 : ev.FirstRead ? a.Full : 0, signal = IsF32(a.Type) ? 0 : ev.LastRead ? a.Empty : 0;
                if (IsF32(a.Type))
                {
                    Own(a);
                }

                o.Writes++;
                o.Extent = (rows, cols);
                if (!IsF32(o.Type))
                {
                    (wait, signal) = (o.Empty, o.Full);
                }
                else
                {
                    Own(o);
                }

                _v.Synced([.. VectorCode.CvtLines(o.Slot, a.Slot, n, TypeName(a.Type), TypeName(o.Type))], wait, signal);
                return;
            }

            VAddr x = Operand(a, 0, ev.FirstRead, ev.LastRead);
            VAddr? y = ev.Tile2 is { } b ? Operand(b, 1, ev.FirstRead2, ev.LastRead2) : null;
            var bExtent = ev.Tile2?.Extent;
            o.Writes++;
            o.Extent = (rows, cols);
            VAddr dst = IsF32(o.Type) ? o.Slot : scratch.F32[0];
            if (IsF32(o.Type))
            {
                Own(o);
            }

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
                _v.Synced([.. VectorCode.CvtLines(o.Slot, dst, n, "f32", TypeName(o.Type))], o.Empty, o.Full);
            }
        }

        private void Reduce(Event ev)
        {
            Buf a = ev.Tile!, o = ev.Out!;
            Own(a);
            Own(o);
            var (rows, cols) = a.Extent;
            string op = ev.VectorKind == "sum" ? "rsum" : "rmax";
            long src = a.Slot;
            o.Writes++;
            o.Extent = (rows, 1);
            long dst = o.Slot;
            if (rows == 1)
            {
                _v.Reduce(op, dst, src, cols, scratch.Tmp);
            }
            else
            {
                _v.Rows((int)rows, 4 * cols, () => _v.Reduce(op, VAddr.R2(dst), VAddr.R1(src), cols, scratch.Tmp));
            }
        }
    }
}
