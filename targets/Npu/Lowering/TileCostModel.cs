using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>Output tile rows × columns and the reduction depth one step covers: a step loads an Mt×Kt tile of A and a Kt×Nt
/// tile of B and accumulates their product. <see cref="StationaryA"/>: Aᵀ tiles sit in the array and Bᵀ rows stream
/// (Cᵀ = Bᵀ·Aᵀ), instead of B in the array and A's rows streaming.</summary>
public sealed record MatmulTiles(int Mt, int Nt, int Kt, long EstimatedCycles, bool StationaryA = false);

/// <summary>
/// Picks matmul tile sizes from the target description alone: array shape (Nt and Kt are whole multiples of the array's
/// columns and rows, or the whole dim), accumulator rows (Mt × ⌈Nt/cols⌉ rows must fit, and the 12-bit row fields),
/// SRAM (two buffers each for the A, B and C tiles: the double-buffering footprint), and DMA bandwidth and latency
/// (a transfer costs latency + bytes/bandwidth, so bigger tiles amortise latency and re-read less). Every candidate is
/// scored by <see cref="Estimate"/>, a pipelined model of the schedule a matmul's <c>tile.dispatch</c> lowers to (passes/Npu/TileLowering.cs): per step the
/// matrix queue (weight loads, MACs with array fill/drain, accumulator drains) overlaps the load and store queues, so a
/// step costs the slowest of the three, plus the first step's loads and the last tile's drain and store. Both forms of the
/// kernel are scored: B stationary with A's rows streaming, and A stationary with Bᵀ's rows streaming (better when M is
/// short and N long, since each mm.mac pays the array's fill and drain once per streamed block of rows). The functions
/// below take the kernel's own terms: P streamed rows, Q stationary columns.
/// </summary>
public static class TileCostModel
{
    /// <summary>Largest field values of the ISA: mm.mac m and acc rows (12 bits), SRAM strides of mm.mac/mm.drain (16 bits), DMA dims.</summary>
    public const int MaxRows = 4095;
    public const int MaxStride = 65535;
    public const int MaxDmaDim = 65535;

    /// <summary>Bytes the double-buffered tiles occupy in SRAM (each buffer rounded up to 64 bytes).</summary>
    public static long SramFootprint(int mt, int nt, int kt, int elem) =>
        2 * (Align((long)mt * kt * elem) + Align((long)kt * nt * elem) + Align((long)mt * nt * elem));

    public static long Align(long v) => (v + 63) & ~63L;

    public static bool Fits(NpuTarget t, int mt, int nt, int kt, int elem)
    {
        int blocks = (nt + t.MatrixCols - 1) / t.MatrixCols;
        return mt <= MaxRows && (long)mt * blocks <= Math.Min(t.AccumulatorRows, MaxRows + 1)
            && (long)kt * elem <= MaxStride && (long)nt * elem <= MaxStride && mt <= MaxDmaDim && kt <= MaxDmaDim && nt <= MaxDmaDim
            && SramFootprint(mt, nt, kt, elem) <= t.SramBytes;
    }

    /// <summary>Estimates within this fraction of the best count as equal; among them the least DRAM traffic wins, because the
    /// simulator does not model the load and store engines sharing DRAM bandwidth (isa.md § Timing) and a real one does.</summary>
    public const double Tolerance = 0.005;

    /// <summary>The cheapest tiles by <see cref="Estimate"/>; within <see cref="Tolerance"/> of the cheapest, the least DRAM traffic
    /// (<see cref="DramBytes"/>), then fewer steps, then the lower estimate. Throws TSR0841 if nothing fits (only a machine too
    /// small for one array-sized tile).</summary>
    public static MatmulTiles Choose(NpuTarget t, int m, int n, int k, int elem = 2)
    {
        // In the tile dispatch's terms: P rows stream through the array, Q columns are stationary.
        var all = new List<(bool StationaryA, int Pt, int Qt, int Kt, long Est, long Bytes, long Steps)>();
        foreach (bool stationaryA in new[] { false, true })
        {
            int p = stationaryA ? n : m, q = stationaryA ? m : n;
            foreach (int pt in Candidates(p, 16))
            {
                foreach (int qt in Candidates(q, t.MatrixCols, all: true))
                {
                    foreach (int kt in Candidates(k, t.MatrixRows, all: true))
                    {
                        if (Fits(t, pt, qt, kt, elem))
                        {
                            all.Add((stationaryA, pt, qt, kt, Estimate(t, p, q, k, pt, qt, kt, elem), DramBytes(p, q, k, pt, qt, kt, elem), (long)Ceil(p, pt) * Ceil(q, qt) * Ceil(k, kt)));
                        }
                    }
                }
            }
        }

        if (all.Count == 0)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"no matmul tile of {m}x{n}x{k} fits target {t.Name}");
        }

        long bestEst = all.Min(c => c.Est);
        var pick = all.Where(c => c.Est <= bestEst * (1 + Tolerance))
            .OrderBy(c => c.Bytes).ThenBy(c => c.Steps).ThenBy(c => c.Est).ThenBy(c => c.StationaryA).ThenBy(c => c.Pt).ThenBy(c => c.Qt).ThenBy(c => c.Kt).First();
        return pick.StationaryA ? new MatmulTiles(pick.Qt, pick.Pt, pick.Kt, pick.Est, true) : new MatmulTiles(pick.Pt, pick.Qt, pick.Kt, pick.Est);
    }

    /// <summary>DRAM bytes the kernel moves with these tiles: A is re-read for every column tile unless K is one tile (then it
    /// stays while only the column tile moves), B for every row tile unless it is the only tile, C written once.</summary>
    public static long DramBytes(int m, int n, int k, int mt, int nt, int kt, int elem = 2)
    {
        int nM = Ceil(m, mt), nN = Ceil(n, nt), nK = Ceil(k, kt);
        long a = (long)m * k * elem * (nK == 1 ? 1 : nN);
        long b = (long)k * n * elem * (nN == 1 && nK == 1 ? 1 : nM);
        return a + b + ((long)m * n * elem);
    }

    /// <summary>Tile sizes to try along a dim of <paramref name="dim"/>: multiples of <paramref name="unit"/> (every one when
    /// <paramref name="all"/>, else powers of two times it) and the dim itself.</summary>
    private static IEnumerable<int> Candidates(int dim, int unit, bool all = false)
    {
        var set = new SortedSet<int> { dim };
        for (long v = unit; v < dim; v = all ? v + unit : v * 2)
        {
            set.Add((int)v);
        }

        return set;
    }

    public static int Ceil(long a, long b) => (int)((a + b - 1) / b);

    /// <summary>(size, count) of the full tiles and the remainder tile along a dim.</summary>
    private static IEnumerable<(int Size, int Count)> Sizes(int dim, int tile)
    {
        if (dim / tile > 0)
        {
            yield return (tile, dim / tile);
        }

        if (dim % tile > 0)
        {
            yield return (dim % tile, 1);
        }
    }

    /// <summary>Matrix-queue cycles of one step: per array block of the Nt columns and per array-height chunk of the Kt rows,
    /// one mm.ldw (k × weightLoadCyclesPerRow) and one mm.mac (m × floatRateDivisor + rows + cols − 2).</summary>
    public static long StepMatrixCycles(NpuTarget t, int mt, int nt, int kt)
    {
        long c = 0;
        foreach (var (w, wc) in Sizes(nt, t.MatrixCols))
        {
            foreach (var (kr, kc) in Sizes(kt, t.MatrixRows))
            {
                c += (long)wc * kc * ((long)kr * t.WeightLoadCyclesPerRow + (long)mt * t.FloatRateDivisor + t.MatrixRows + t.MatrixCols - 2);
            }

            _ = w;
        }

        return c;
    }

    /// <summary>Load-queue cycles for a Kt×Nt weight tile: one transfer for the full array blocks, one for a ragged last block.</summary>
    public static long WeightLoadCycles(NpuTarget t, int nt, int kt, int elem) =>
        t.DmaCycles((long)kt * nt * elem) + (nt > t.MatrixCols && nt % t.MatrixCols != 0 ? t.DmaLatencyCycles : 0);

    /// <summary>Estimated total cycles of the kernel with these tiles (see the class summary).</summary>
    public static long Estimate(NpuTarget t, int m, int n, int k, int mt, int nt, int kt, int elem = 2)
    {
        int nM = Ceil(m, mt), nN = Ceil(n, nt), nK = Ceil(k, kt);
        double total = 0;
        foreach (var (ms, mc) in Sizes(m, mt))
        {
            foreach (var (ns, nc) in Sizes(n, nt))
            {
                int blocks = Ceil(ns, t.MatrixCols);
                double drain = (double)ms * t.DrainCyclesPerRow * blocks / nK;
                double store = (double)t.DmaCycles((long)ms * ns * elem) / nK;
                foreach (var (ks, kc) in Sizes(k, kt))
                {
                    double mx = StepMatrixCycles(t, ms, ns, ks) + drain;
                    double ldA = t.DmaCycles((long)ms * ks * elem) / (nK == 1 ? (double)nN : 1);   // A stays when only n moves
                    double ldB = WeightLoadCycles(t, ns, ks, elem) / (nN == 1 && nK == 1 ? (double)nM : 1); // B stays when only m moves
                    total += (double)mc * nc * kc * Math.Max(mx, Math.Max(ldA + ldB, store));
                }
            }
        }

        int m0 = Math.Min(m, mt), n0 = Math.Min(n, nt), k0 = Math.Min(k, kt);
        total += t.DmaCycles((long)m0 * k0 * elem) + WeightLoadCycles(t, n0, k0, elem);
        total += (double)m0 * Ceil(n0, t.MatrixCols) * t.DrainCyclesPerRow + t.DmaCycles((long)m0 * n0 * elem);
        return (long)Math.Ceiling(total);
    }

    /// <summary>The roofline floor: max(MACs ÷ MAC rate, minimum DRAM bytes ÷ bytes per cycle), with the float MAC rate
    /// rows × cols ÷ floatRateDivisor and each operand read once and the result written once.</summary>
    public static double FloorCycles(NpuTarget t, long m, long n, long k, int elem = 2)
    {
        double macs = (double)m * n * k;
        double rate = (double)t.MatrixRows * t.MatrixCols / t.FloatRateDivisor;
        double bytes = (double)(m * k + k * n + m * n) * elem;
        double bytesPerCycle = (double)(t.DmaBandwidthGBps / t.ClockGHz);
        return Math.Max(macs / rate, bytes / bytesPerCycle);
    }
}
