using System.Globalization;

namespace Tessera.Npu.Lowering;

public static partial class GemvKernel
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>
    /// Emits the kernel body for <paramref name="plan"/>: y (N elements at <paramref name="y"/>) = x (K at <paramref name="x"/>)
    /// · W (K×N row-major at <paramref name="w"/>), all <paramref name="type"/> (f16 or bf16) in DRAM, fp32 products and sums.
    /// </summary>
    public static void Emit(ProgramBuilder pb, GemvPlan plan, long x, long w, long y, string type)
    {
        var t = pb.Target;
        if (type is not ("f16" or "bf16"))
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"gemv {plan.K}x{plan.N}: element type {type} is not supported (f16 or bf16)");
        }

        int n = plan.N, k = plan.K, width = plan.Width, xRows = plan.XRows;
        bool vector = plan.Blocks.Any(b => !b.Matrix), matrix = plan.Blocks.Any(b => b.Matrix);
        string S(int wait, int signal) => ProgramBuilder.Sync(wait, signal);
        void L(FormattableString s) => pb.Line(s.ToString(Ci));

        long xRaw = pb.Alloc("x", 2L * k);
        long xF32 = vector ? pb.Alloc("x.f32", 4L * xRows * k) : 0, work = vector ? pb.Alloc("v.f32", 4L * width * k) : 0;
        long sums = vector ? pb.Alloc("v.sums", 4L * width) : 0;
        long[] vIn = vector ? [pb.Alloc("v.in0", 2L * width * k), pb.Alloc("v.in1", 2L * width * k)] : [0, 0];
        long[] vOut = vector ? [pb.Alloc("v.out0", 2L * width), pb.Alloc("v.out1", 2L * width)] : [0, 0];
        long[] mIn = matrix ? [pb.Alloc("m.in0", 2L * width * k), pb.Alloc("m.in1", 2L * width * k)] : [0, 0];
        long[] mOut = matrix ? [pb.Alloc("m.out0", 2L * width), pb.Alloc("m.out1", 2L * width)] : [0, 0];
        pb.Comment($"gemv {type} x[{k}]·W[{k}x{n}]: {plan.Blocks.Count} blocks of {width} columns, {plan.MatrixColumns} on the matrix unit, estimate {plan.EstimatedCycles} cycles");
        if (vector)
        {
            L($"sem.post sem={VFree} count=2");
            L($"sem.post sem={VOutFree} count=2");
        }

        if (matrix)
        {
            L($"sem.post sem={MFree} count=2");
            L($"sem.post sem={MOutFree} count=2");
        }

        // x first on the load queue: the matrix unit's first block token orders it for the matrix queue.
        L($"dma.load desc={pb.Rows(2, 1, k, 0, 0)} sram=0x{xRaw:x} dram=0x{x:x}{S(0, vector ? SemX : 0)}");
        if (vector)
        {
            // fp32 x, doubled into xRows consecutive copies so one v.mul covers xRows outputs.
            L($"v.cvt dst=0x{xF32:x} a=0x{xRaw:x} n={k} from={type} to=f32{S(SemX, 0)}");
            for (int r = 1; r < xRows; r *= 2)
            {
                L($"v.copy dst=0x{xF32 + (4L * r * k):x} a=0x{xF32:x} n={Math.Min(r, xRows - r) * k}");
            }
        }

        int[] seen = [0, 0];
        foreach (var b in plan.Blocks)
        {
            int slot = seen[b.Matrix ? 1 : 0]++ % 2;
            pb.Comment($"columns {b.C0}..{b.C0 + b.Width} on the {(b.Matrix ? "matrix" : "vector")} unit");
            if (b.Matrix)
            {
                MatrixBlock(pb, b, k, n, xRaw, mIn[slot], mOut[slot], w, y, type);
                continue;
            }

            // Transposed load: row j of the slot holds column c0 + j of W, its K weights contiguous.
            int bw = b.Width;
            L($"dma.load desc={pb.Desc(2, 1, k, bw, 0, 2L * n, 2, 0, 2L * k, 2, transpose: true)} sram=0x{vIn[slot]:x} dram=0x{w + (2L * b.C0):x}{S(VFree, VLoaded)}");
            long total = (long)bw * k;
            for (long o = 0; o < total; o += MaxN)
            {
                L($"v.cvt dst=0x{work + (4 * o):x} a=0x{vIn[slot] + (2 * o):x} n={Math.Min(MaxN, total - o)} from={type} to=f32{S(o == 0 ? VLoaded : 0, o + MaxN >= total ? VFree : 0)}");
            }

            for (int r = 0; r < bw; r += xRows)
            {
                long at = work + (4L * r * k);
                L($"v.mul dst=0x{at:x} a=0x{at:x} b=0x{xF32:x} n={(long)Math.Min(xRows, bw - r) * k}");
            }

            // One lane-striped sum per output: r1 walks the fp32 rows, r2 the sums.
            L($"set rd=r1 imm=0");
            L($"set rd=r2 imm=0");
            L($"loop count={bw}");
            L($"v.rsum dst=r2+0x{sums:x} a=r1+0x{work:x} n={k}");
            L($"addi rd=r1 rs=r1 imm={4L * k}");
            L($"addi rd=r2 rs=r2 imm=4");
            L($"endloop");
            L($"v.cvt dst=0x{vOut[slot]:x} a=0x{sums:x} n={bw} from=f32 to={type}{S(VOutFree, VDone)}");
            L($"dma.store desc={pb.Rows(2, 1, bw, 0, 0)} sram=0x{vOut[slot]:x} dram=0x{y + (2L * b.C0):x}{S(VDone, VOutFree)}");
        }

    }

    /// <summary>A matrix block: W's columns re-blocked into array-wide groups of K×cols (each array-high chunk a
    /// contiguous tile for <c>mm.ldw</c>, a ragged last group K×rest), one accumulator row per group, x (raw) streamed as
    /// one row per chunk, the rows drained as consecutive outputs.</summary>
    private static void MatrixBlock(ProgramBuilder pb, GemvBlock b, int k, int n, long xRaw, long slot, long outSlot, long w, long y, string type)
    {
        var t = pb.Target;
        void L(FormattableString s) => pb.Line(s.ToString(Ci));
        int cols = t.MatrixCols, rows = t.MatrixRows, full = b.Width / cols, rest = b.Width % cols;
        long dram = w + (2L * b.C0), groupBytes = 2L * k * cols;
        var loads = new List<(int Desc, long Sram, long Dram)>();
        if (full > 0)
        {
            loads.Add((pb.Desc(2, full, k, cols, 2L * cols, 2L * n, 2, groupBytes, 2L * cols, 2), slot, dram));
        }

        if (rest > 0)
        {
            loads.Add((pb.Desc(2, 1, k, rest, 0, 2L * n, 2, 0, 2L * rest, 2), slot + (full * groupBytes), dram + (2L * full * cols)));
        }

        for (int i = 0; i < loads.Count; i++)
        {
            L($"dma.load desc={loads[i].Desc} sram=0x{loads[i].Sram:x} dram=0x{loads[i].Dram:x}{ProgramBuilder.Sync(i == 0 ? MFree : 0, i == loads.Count - 1 ? MLoaded : 0)}");
        }

        int groups = full + (rest > 0 ? 1 : 0);
        for (int g = 0; g < groups; g++)
        {
            int gw = g < full ? cols : rest;
            for (int kc = 0; kc < k; kc += rows)
            {
                int kr = Math.Min(rows, k - kc);
                bool first = g == 0 && kc == 0, last = g == groups - 1 && kc + rows >= k;
                L($"mm.ldw src=0x{slot + (g * groupBytes) + (2L * kc * gw):x} k={kr} n={gw} type={type}{ProgramBuilder.Sync(first ? MLoaded : 0, last ? MFree : 0)}");
                L($"mm.mac src=0x{xRaw + (2L * kc):x} acc=0x{g:x} m=1 k={kr} accumulate={(kc > 0 ? 1 : 0)} type={type}");
            }
        }

        if (full > 0)
        {
            L($"mm.drain acc=0x0 dst=0x{outSlot:x} m={full} n={cols} stride={2 * cols} mode={type}{ProgramBuilder.Sync(MOutFree, rest > 0 ? 0 : MDone)}");
        }

        if (rest > 0)
        {
            L($"mm.drain acc=0x{full:x} dst=0x{outSlot + (2L * full * cols):x} m=1 n={rest} mode={type}{ProgramBuilder.Sync(full > 0 ? 0 : MOutFree, MDone)}");
        }

        L($"dma.store desc={pb.Rows(2, 1, b.Width, 0, 0)} sram=0x{outSlot:x} dram=0x{y + (2L * b.C0):x}{ProgramBuilder.Sync(MDone, MOutFree)}");
    }
}
