using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>One attention call: q [Hq, S, D], k and v [Hkv, T, D], dst [S, Hq, D]. Query i sits at absolute position
/// <see cref="QOffset"/> + i; with <see cref="Causal"/> it sees key j iff j ≤ QOffset + i. <see cref="Scale"/> defaults to 1/√D.
/// <see cref="Mask"/>: a mask tensor read at run time, on top of (or instead of) the causal one.</summary>
public sealed record AttentionShape(int Hq, int Hkv, int S, int T, int D, bool Causal = false, int QOffset = 0, float? Scale = null,
    AttentionMask? Mask = null)
{
    public float EffectiveScale => Scale ?? (float)(1.0 / Math.Sqrt(D));
    public int Group => Hq / Hkv;
}

/// <summary>A runtime mask: a dense row-major [<see cref="Heads"/>, <see cref="Rows"/>, T] tensor in DRAM, broadcast over
/// query heads when Heads = 1 (else Heads = Hq) and over query positions when Rows = 1 (else Rows = S). <see cref="Type"/>
/// "bool" (one byte, 1 = visible, 0 = hidden) or "f16"/"bf16" (added to the scores; −inf and anything below −1e30 count as −1e30).</summary>
public sealed record AttentionMask(string Type, int Heads, int Rows)
{
    /// <summary>Bytes per element in DRAM.</summary>
    public int Elem => Type == "bool" ? 1 : 2;

    /// <summary>Distinct mask rows a block of <paramref name="rb"/> needs: one per head only if the mask has heads, one per
    /// position only if it has rows.</summary>
    public (int Heads, int Rows) Tile(RowBlock rb) => (Heads > 1 ? rb.Nh : 1, Rows > 1 ? rb.Ns : 1);
}

/// <summary>Query rows per block (<see cref="Br"/> = <see cref="HeadsPerBlock"/> × <see cref="RowsPerHead"/>) and keys per
/// block (<see cref="Bc"/>). A block stacks several query heads of one GQA group only when it holds all S positions of each,
/// so its rows map to a rectangle of q and of dst and share one K/V stream.</summary>
public sealed record AttentionTiles(int Br, int Bc, int HeadsPerBlock, int RowsPerHead, long EstimatedCycles);

/// <summary>A block of query rows: heads [H0, H0+Nh) of one group, positions [S0, S0+Ns); row r is head H0 + r / Ns, position S0 + r % Ns.</summary>
public readonly record struct RowBlock(int Group, int H0, int Nh, int S0, int Ns)
{
    public int Rows => Nh * Ns;
}

/// <summary>One (row block, key block) pair. <see cref="First"/>/<see cref="Last"/>: first/last key block of its row block;
/// <see cref="Masked"/>: some row of the block cannot see some key of it (causal diagonal).</summary>
public readonly record struct AttnStep(int Rb, int J0, int Bc, bool First, bool Last, bool Masked);

/// <summary>
/// Flash attention's blocks (<see cref="Tiles"/>), block schedule, resource checks and cost estimate. npu-attention-to-tile
/// (passes/Npu/AttentionTile.cs) writes the kernel as tile ops over these blocks; docs/npu/attention.md describes it.
/// </summary>
public static class AttentionPlan
{
    /// <summary>The tiles flash attention uses for <paramref name="s"/> on <paramref name="t"/>: the cheapest by the pipelined estimate
    /// among those that fit SRAM (every double buffer), the accumulator (S and P·V blocks together) and the ISA's field widths;
    /// among estimates within 0.5%, the least DRAM traffic. Throws TSR0841 if the shape is invalid or nothing fits.</summary>
    public static AttentionTiles Tiles(NpuTarget t, AttentionShape s, int elem = 2)
    {
        Validate(t, s);
        var rowOptions = new List<(int Nh, int Ns)>();
        for (int ns = 16; ns < s.S; ns *= 2)
        {
            rowOptions.Add((1, ns));
        }

        for (int nh = 1; nh <= s.Group; nh++)
        {
            rowOptions.Add((nh, s.S));
        }

        var bcOptions = new List<int>();
        for (int bc = t.MatrixCols; bc < s.T; bc *= 2)
        {
            bcOptions.Add(bc);
        }

        bcOptions.Add(s.T);
        AttentionTiles? best = null;
        long bestBytes = 0;
        string? why = null;
        foreach (var (nh, ns) in rowOptions)
        {
            foreach (int bc in bcOptions)
            {
                int br = nh * ns;
                if (s.Mask is { } mk && !MaskFits(mk, nh, ns))
                {
                    why ??= "a per-head mask without positions cannot broadcast over several positions of stacked heads";
                    continue;
                }

                if (AttentionPlan.Misfit(t, s, br, bc, elem) is { } m)
                {
                    why ??= m;
                    continue;
                }

                var tl = new AttentionTiles(br, bc, nh, ns, 0);
                tl = tl with { EstimatedCycles = AttentionPlan.Estimate(t, s, tl, elem) };
                long bytes = AttentionPlan.DramBytes(s, tl, elem);
                if (best is null || tl.EstimatedCycles < best.EstimatedCycles * (1 - 0.005)
                    || (tl.EstimatedCycles <= best.EstimatedCycles * (1 + 0.005) && bytes < bestBytes))
                {
                    (best, bestBytes) = (tl, bytes);
                }
            }
        }

        return best ?? throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name,
            $"attention with head dim D={s.D}, T={s.T} does not fit target {t.Name}: even the smallest blocks ({why})");
    }

    /// <summary>Rows of a block's mask tile: one per head only if the mask has heads, one per position only if it has rows.</summary>
    public static int MaskRows(AttentionMask mk, int nh, int ns) => (mk.Heads > 1 ? nh : 1) * (mk.Rows > 1 ? ns : 1);

    /// <summary>Whether a block's scores (rows head-major, then position) can add the mask tile: whole, as one row for all,
    /// or as its position rows repeated for each stacked head; not as one row per head spread over its positions.</summary>
    public static bool MaskFits(AttentionMask mk, int nh, int ns) => !(mk.Heads > 1 && mk.Rows == 1 && nh > 1 && ns > 1);

    private static void Validate(NpuTarget t, AttentionShape s)
    {
        string? bad = s switch
        {
            _ when s.Hq < 1 || s.Hkv < 1 || s.S < 1 || s.T < 1 || s.D < 1 => "every dimension must be at least 1",
            _ when s.Hq % s.Hkv != 0 => $"Hq={s.Hq} is not a multiple of Hkv={s.Hkv}",
            _ when s.QOffset < 0 => $"qOffset={s.QOffset} is negative",
            _ when !(s.EffectiveScale > 0) || float.IsInfinity(s.EffectiveScale) => $"scale {s.EffectiveScale} must be positive and finite (the row max is taken before scaling)",
            _ when s.Mask is { } m && m.Type is not ("bool" or "f16" or "bf16") => $"a {m.Type} mask (bool, f16 or bf16 only)",
            _ when s.Mask is { } m && ((m.Heads != 1 && m.Heads != s.Hq) || (m.Rows != 1 && m.Rows != s.S)) =>
                $"mask [{s.Mask.Heads}, {s.Mask.Rows}, T] does not broadcast to [Hq={s.Hq}, S={s.S}, T]",
            _ => null,
        };
        if (bad is not null)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, "attention: " + bad);
        }
    }

    public static List<RowBlock> RowBlocks(AttentionShape s, AttentionTiles tl)
    {
        var rbs = new List<RowBlock>();
        for (int g = 0; g < s.Hkv; g++)
        {
            int hEnd = (g + 1) * s.Group;
            if (tl.RowsPerHead >= s.S)
            {
                for (int h0 = g * s.Group; h0 < hEnd; h0 += tl.HeadsPerBlock)
                {
                    rbs.Add(new RowBlock(g, h0, Math.Min(tl.HeadsPerBlock, hEnd - h0), 0, s.S));
                }
            }
            else
            {
                for (int h = g * s.Group; h < hEnd; h++)
                {
                    for (int s0 = 0; s0 < s.S; s0 += tl.RowsPerHead)
                    {
                        rbs.Add(new RowBlock(g, h, 1, s0, Math.Min(tl.RowsPerHead, s.S - s0)));
                    }
                }
            }
        }

        return rbs;
    }

    /// <summary>Key blocks per row block, in order. Causal: key blocks that start past every row's last visible key are
    /// never visited (their work and their K/V traffic are skipped, not masked).</summary>
    public static List<AttnStep> Steps(AttentionShape s, AttentionTiles tl, List<RowBlock> rbs)
    {
        var steps = new List<AttnStep>();
        for (int i = 0; i < rbs.Count; i++)
        {
            var rb = rbs[i];
            long limit = s.Causal ? Math.Min(s.T, (long)s.QOffset + rb.S0 + rb.Ns) : s.T;
            for (int j0 = 0; j0 < limit; j0 += tl.Bc)
            {
                int bc = Math.Min(tl.Bc, s.T - j0);
                bool masked = s.Causal && (long)j0 + bc - 1 > (long)s.QOffset + rb.S0;
                steps.Add(new AttnStep(i, j0, bc, j0 == 0, j0 + tl.Bc >= limit, masked));
            }
        }

        return steps;
    }

    /// <summary>The SRAM bytes (every buffer 64-byte aligned) and accumulator rows the dispatch's tiles take for blocks of
    /// <paramref name="br"/> query rows and <paramref name="bc"/> keys (<c>AttentionTile</c> allocates them).</summary>
    public static (long SramBytes, int AccRows) Footprint(NpuTarget t, AttentionShape sh, int br, int bc, int e)
    {
        long d = sh.D, maskTile = (long)br * bc;
        // Single: the constants (scalars, the causal mask row), O, the row max, sum and 1/l scratch, the f32 mask tile.
        long[] single = [(16 * 4) + (2L * bc * 4), br * d * 4, br * 4L, br * 4L, br * 4L, sh.Mask is null ? 0 : maskTile * 4];
        // Two copies: Q, Kᵀ, V, S, P·V, P, the output, m, α, l, the mask tile as loaded.
        long[] twice = [br * d * e, bc * d * e, bc * d * e, maskTile * 4, br * d * 4, maskTile * e, br * d * e, br * 4L, br * 4L, br * 4L,
            sh.Mask is null ? 0 : maskTile * sh.Mask.Elem];
        long bytes = single.Sum(TileCostModel.Align) + (2 * twice.Sum(TileCostModel.Align));
        return (bytes, (br * Ceil(bc, t.MatrixCols)) + (br * Ceil(sh.D, t.MatrixCols)));
    }

    public static int Ceil(int a, int b) => (a + b - 1) / b;

    /// <summary>Null if the tiles fit the target, else why not.</summary>
    public static string? Misfit(NpuTarget t, AttentionShape s, int br, int bc, int e)
    {
        const int maxN = 65535;   // u16 n of vector instructions and of the mm.mac/mm.drain strides
        var (sram, accRows) = Footprint(t, s, br, bc, e);
        if (sram > t.SramBytes)
        {
            return $"needs {sram} bytes of SRAM, target has {t.SramBytes}";
        }

        if (accRows > Math.Min(t.AccumulatorRows, TileCostModel.MaxRows + 1) || br > TileCostModel.MaxRows)
        {
            return $"needs {accRows} accumulator rows, target has {t.AccumulatorRows}";
        }

        if ((long)br * bc > maxN || (long)br * s.D > maxN || 2L * bc + 16 > maxN)
        {
            return "a block is longer than one vector instruction's 65535 elements";
        }

        if ((long)bc * 4 > maxN || (long)s.D * 4 > maxN || s.D > TileCostModel.MaxDmaDim)
        {
            return "a row is wider than the 16-bit strides of mm.mac/mm.drain allow";
        }

        return null;
    }

    /// <summary>A pipelined estimate of the emitted schedule: per step the slowest of the matrix queue (S = QKᵀ and P·V, array
    /// fill and drain per mm.mac), the vector queue (per-row reductions and broadcasts, whole-block exp/scale/convert) and the
    /// load queue (K and V blocks, Q at a row block's start, mask tiles); plus the first loads and the last store.</summary>
    public static long Estimate(NpuTarget t, AttentionShape s, AttentionTiles tl, int e)
    {
        var rbs = RowBlocks(s, tl);
        int rows = t.MatrixRows, cols = t.MatrixCols, lanes = t.VectorLanes, d = s.D;
        int log2 = 31 - int.LeadingZeroCount(lanes);
        long Mac(int m) => ((long)m * t.FloatRateDivisor) + rows + cols - 2;
        long Vs(long n) => t.VectorStartupCycles + ((n + lanes - 1) / lanes * t.VectorSimpleOpCycles);
        long Vt(long n) => t.VectorStartupCycles + ((n + lanes - 1) / lanes * t.VectorTranscendentalOpCycles);
        long Vr(long n) => Vs(n) + log2;
        long total = 0;
        foreach (var st in Steps(s, tl, rbs))
        {
            var rb = rbs[st.Rb];
            int nr = rb.Rows, bc = st.Bc;
            long mat = (long)Ceil(bc, cols) * Ceil(d, rows) * ((rows * t.WeightLoadCyclesPerRow) + Mac(nr))
                + ((long)Ceil(d, cols) * Ceil(bc, rows) * ((rows * t.WeightLoadCyclesPerRow) + Mac(nr)))
                + ((long)(Ceil(bc, cols) + Ceil(d, cols)) * nr * t.DrainCyclesPerRow);
            long vec = (nr * (Vr(bc) + Vs(bc) + Vr(bc) + (st.Masked ? Vs(bc) : 0) + (st.First ? 0 : Vs(d))))
                + (2 * Vs((long)nr * bc)) + Vt((long)nr * bc) + Vs((long)nr * d) + (st.First ? 0 : (4 * Vs(nr)) + Vt(nr))
                + (st.Last ? Vt(nr) + (nr * Vs(d)) + Vs((long)nr * d) : 0);
            long ld = (2 * t.DmaCycles((long)bc * d * e)) + (st.First ? t.DmaCycles((long)nr * d * e) : 0);
            if (s.Mask is { } mk)
            {
                // Load the tile, widen it, map it to 0 / −1e30 (bool) or divide by the scale and clamp (float), add it per row or at once.
                var (mh, ms) = mk.Tile(rb);
                long n = (long)mh * ms * bc;
                ld += t.DmaCycles(n * mk.Elem);
                vec += (3 * Vs(n)) + (mh * ms == nr ? Vs((long)nr * bc) : nr * Vs(bc));
            }

            total += Math.Max(mat, Math.Max(vec, ld));
        }

        var last = rbs[^1];
        return total + t.DmaCycles(16 * 4) + t.DmaCycles((long)rbs[0].Rows * d * e) + t.DmaCycles((long)last.Rows * d * e);
    }

    /// <summary>DRAM bytes the schedule moves (K and V once per step, Q and O once).</summary>
    public static long DramBytes(AttentionShape s, AttentionTiles tl, int e)
    {
        var rbs = RowBlocks(s, tl);
        long mask = s.Mask is { } mk ? Steps(s, tl, rbs).Sum(st => (long)mk.Tile(rbs[st.Rb]).Heads * mk.Tile(rbs[st.Rb]).Rows * st.Bc * mk.Elem) : 0;
        return ((Steps(s, tl, rbs).Sum(st => 2L * st.Bc * s.D) + (2L * s.Hq * s.S * s.D)) * e) + mask;
    }
}
