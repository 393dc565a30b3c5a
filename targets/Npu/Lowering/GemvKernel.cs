using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>Output columns [<paramref name="C0"/>, C0 + <paramref name="Width"/>) of a GEMV and the unit that computes them.</summary>
public readonly record struct GemvBlock(bool Matrix, int C0, int Width);

/// <summary>A GEMV schedule (<see cref="GemvKernel"/>): y[N] = x[K]·W[K×N] in blocks of <paramref name="Width"/> columns, in
/// load order, each given to the vector or the matrix unit; <paramref name="XRows"/> copies of x are kept in fp32 for the
/// vector unit's multiply.</summary>
public sealed record GemvPlan(int N, int K, int Width, int XRows, IReadOnlyList<GemvBlock> Blocks, long EstimatedCycles)
{
    public int MatrixColumns => Blocks.Where(b => b.Matrix).Sum(b => b.Width);
}

/// <summary>
/// The schedule of a matrix-vector product for decode (M = 1), memory bound: its floor is W's bytes ÷ DMA bandwidth. On
/// the matrix unit alone every 32×32 weight tile pays <c>mm.ldw</c> plus a whole fill and drain of the array for one row,
/// well under the DMA rate; the vector unit reads weights faster, and both units can work on disjoint column blocks at
/// once, fed by the one load queue. Vector block: W's columns loaded transposed (each output's K weights contiguous), one
/// <c>v.cvt</c>, one <c>v.mul</c> per <see cref="GemvPlan.XRows"/> rows against x replicated that many times, one
/// <c>v.rsum</c> per output. Matrix block: the columns re-blocked into array-wide K×cols tiles, <c>mm.ldw</c>/<c>mm.mac</c>
/// with m = 1 per array-high chunk of K, one accumulator row per array-wide group, drained to f16/bf16. <see cref="Plan"/>
/// sizes the blocks and picks each block's unit with a timing model of that program (isa.md § Timing); npu-matmul-to-tile
/// writes the plan as a <c>tile.dispatch</c> (passes/Npu/GemvDispatch.cs), whose lowering is that program. See
/// docs/npu/kernels.md § GEMV.
/// </summary>
public static class GemvKernel
{
    /// <summary>The dispatch's semaphores: empty and full for x (loaded, then read by both units) and, per unit, for its
    /// weight tiles and its output tiles.</summary>
    private const int Semaphores = 10;

    /// <summary>The widest vector <c>n</c> and DMA dimension (16-bit fields).</summary>
    private const int MaxN = VectorCode.MaxN;

    /// <summary>Up to this many blocks, <see cref="Plan"/> tries every assignment of blocks to units.</summary>
    private const int ExhaustiveBlocks = 8;

    /// <summary>The cheapest schedule for y[N] = x[K]·W[K×N] (2-byte elements) on <paramref name="t"/>, or null when the
    /// kernel does not apply (K of 1, a scaled copy the lowering broadcasts differently than this model counts; K beyond
    /// a vector instruction; too few semaphores; nothing fits SRAM).</summary>
    public static GemvPlan? Plan(NpuTarget t, int n, int k)
    {
        if (n < 1 || k < 2 || k > MaxN || t.Semaphores < Semaphores)
        {
            return null;
        }

        int cols = t.MatrixCols;
        var widths = new SortedSet<int>();
        for (int w = cols; w < n; w += cols)
        {
            widths.Add(w);
        }

        widths.Add(n);
        GemvPlan? best = null;
        foreach (int w in widths.Where(w => w <= MaxN && (long)Math.Ceiling(w / (double)cols) <= Math.Min(t.AccumulatorRows, 4095)))
        {
            int xRows = XRows(w, k);
            if (SramBytes(w, k, xRows) > t.SramBytes)
            {
                continue;
            }

            foreach (var split in Splits(n, w, cols))
            {
                // Few blocks: every assignment of blocks to units (first-finish is greedy and can lose at the end).
                int masks = split.Length <= ExhaustiveBlocks ? 1 << split.Length : 0;
                for (int mask = -1; mask < masks; mask++)
                {
                    var plan = Schedule(t, n, k, w, xRows, split, mask);
                    if (best is null || plan.EstimatedCycles < best.EstimatedCycles)
                    {
                        best = plan;
                    }
                }
            }
        }

        return best;
    }

    /// <summary>Block widths to try with blocks of <paramref name="w"/> columns: all equal, or the last columns in narrower
    /// blocks (array-wide multiples, 2 to 8 of them), because whatever work follows the last load is not hidden behind
    /// the load queue and a narrow last block shortens it, at a DMA latency per extra block.</summary>
    private static IEnumerable<int[]> Splits(int n, int w, int cols)
    {
        int[] Blocks(int tailCols, int tw)
        {
            var list = new List<int>();
            for (int c = 0, head = n - tailCols; c < head; c += w)
            {
                list.Add(Math.Min(w, head - c));
            }

            for (int c = n - tailCols; c < n; c += tw)
            {
                list.Add(Math.Min(tw, n - c));
            }

            return [.. list];
        }

        yield return Blocks(0, w);
        for (int tw = cols; tw < w; tw *= 2)
        {
            foreach (int count in new[] { 2, 4, 8 })
            {
                if ((long)tw * count < n)
                {
                    yield return Blocks(tw * count, tw);
                }
            }
        }
    }

    /// <summary>The copies of x's fp32 row the lowering keeps for blocks of <paramref name="width"/> rows (TileLowering's row replicas).</summary>
    private static int XRows(int width, int k) => VectorCode.RowCopies(width, k);

    private static long Align(long v) => TileCostModel.Align(v);

    /// <summary>SRAM of the kernel with both units' buffers: x (raw, and xRows fp32 copies), per unit two raw weight slots
    /// and two output slots, the vector unit's fp32 block and sums.</summary>
    public static long SramBytes(int width, int k, int xRows)
    {
        long block = Align(2L * width * k), outSlot = Align(2L * width);
        return Align(2L * k) + Align(4L * xRows * k) + Align(4L * width) + Align(4L * width * k) + (4 * block) + (4 * outSlot);
    }

    /// <summary>Cycles of a vector instruction over n elements, split at <see cref="MaxN"/> as lowered.</summary>
    private static long VecCycles(NpuTarget t, long n)
    {
        long c = 0;
        for (long o = 0; o < n; o += MaxN)
        {
            c += t.VectorStartupCycles + (Ceil(Math.Min(MaxN, n - o), t.VectorLanes) * t.VectorSimpleOpCycles);
        }

        return c;
    }

    private static long Ceil(long a, long b) => (a + b - 1) / b;

    /// <summary>Vector cycles of a block: (before its raw slot is free, all of it).</summary>
    private static (long Free, long Total) VectorWork(NpuTarget t, int w, int k, int xRows)
    {
        long cvt = VecCycles(t, (long)w * k), mul = 0;
        for (int r = 0; r < w; r += xRows)
        {
            mul += VecCycles(t, (long)Math.Min(xRows, w - r) * k);
        }

        long rsum = w * (t.VectorStartupCycles + (Ceil(k, t.VectorLanes) * t.VectorSimpleOpCycles) + (long)Math.Log2(t.VectorLanes));
        return (cvt, cvt + mul + rsum + VecCycles(t, w));
    }

    /// <summary>Matrix cycles of a block: (before its raw slot is free, all of it).</summary>
    private static (long Free, long Total) MatrixWork(NpuTarget t, int w, int k)
    {
        long mac = t.FloatRateDivisor + t.MatrixRows + t.MatrixCols - 2, c = 0;
        int groups = (int)Ceil(w, t.MatrixCols);
        for (int kc = 0; kc < k; kc += t.MatrixRows)
        {
            c += groups * (((long)Math.Min(t.MatrixRows, k - kc) * t.WeightLoadCyclesPerRow) + mac);
        }

        long drain = (w / t.MatrixCols * (long)t.DrainCyclesPerRow) + (w % t.MatrixCols > 0 ? t.DrainCyclesPerRow : 0);
        return (c - mac, c + drain);
    }

    /// <summary>Blocks of the widths in <paramref name="split"/> (at most <paramref name="w"/>), each given to the unit that would finish it first given the load
    /// queue, both units' progress, their two raw and two output slots and the store queue: a timing model of the
    /// lowered program (isa.md § Timing), whose end is the estimate.</summary>
    private static GemvPlan Schedule(NpuTarget t, int n, int k, int w, int xRows, int[] split, int mask = -1)
    {
        long load = t.DmaCycles(2L * k), store = 0, end = 0;
        // The vector unit first converts x and doubles it into xRows copies.
        long vx = VecCycles(t, k);
        for (int r = 1; r < xRows; r *= 2)
        {
            vx += VecCycles(t, (long)Math.Min(r, xRows - r) * k);
        }

        long[] busy = [load + vx, 0];
        var slotFree = new long[2][] { [0, 0], [0, 0] };
        var outFree = new long[2][] { [0, 0], [0, 0] };
        int[] count = [0, 0];
        var blocks = new List<GemvBlock>();
        int c0 = 0;
        foreach (int width in split)
        {
            long Finish(int u, out long loadEnd, out long free, out long done)
            {
                int s = count[u] % 2;
                bool ragged = u == 1 && width > t.MatrixCols && width % t.MatrixCols != 0;
                loadEnd = Math.Max(load, slotFree[u][s]) + t.DmaCycles(2L * width * k) + (ragged ? t.DmaLatencyCycles : 0);
                var (f, total) = u == 0 ? VectorWork(t, width, k, xRows) : MatrixWork(t, width, k);
                long start = Math.Max(loadEnd, busy[u]);
                free = start + f;
                done = Math.Max(start + total, outFree[u][s]);
                return done;
            }

            long fv = Finish(0, out _, out _, out _), fm = Finish(1, out _, out _, out _);
            int unit = mask >= 0 ? (mask >> blocks.Count) & 1 : fm < fv ? 1 : 0;
            Finish(unit, out long le, out long fr, out long dn);
            int slot = count[unit]++ % 2;
            load = le;
            slotFree[unit][slot] = fr;
            busy[unit] = dn;
            store = Math.Max(store, dn) + t.DmaCycles(2L * width);
            outFree[unit][slot] = store;
            end = Math.Max(end, store);
            blocks.Add(new GemvBlock(unit == 1, c0, width));
            c0 += width;
        }

        return new GemvPlan(n, k, w, xRows, blocks, end);
    }
}
