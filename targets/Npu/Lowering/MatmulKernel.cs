using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>
/// Emits C[M×N] = A[M×K] · B[K×N] (f16 or bf16, fp32 accumulation, result rounded once to the element type) as an NPU
/// program, in the shape of <c>targets/Npu/examples/gemm.s</c>, fully unrolled over the tiles.
/// <para>Loop order: output tile rows (mi), then columns (ni), then reduction (ki). Each step loads the A(mi,ki) tile
/// (row-major, row stride Kt) and the B(ki,ni) tile re-blocked by a 3-D descriptor into array-wide column blocks, each a
/// contiguous Kt × cols block (so every <c>mm.ldw</c> reads a contiguous k × n tile); a tile that is the same as the
/// previous step's stays in SRAM. Ragged edges get their own descriptors with the exact sizes, and the
/// <c>mm.ldw</c>/<c>mm.mac</c>/<c>mm.drain</c> fields carry the exact k, n and m, so no padding is computed.</para>
/// <para>With <see cref="MatmulTiles.StationaryA"/> the roles swap: Cᵀ = Bᵀ · Aᵀ, Aᵀ tiles sit in the array and Bᵀ rows
/// stream, so a long N amortises the array's fill and drain when M is short (the transposes are descriptor strides).</para>
/// <para>SRAM: two buffers each for A, B and C (in the A-stationary form: Bᵀ, Aᵀ, Cᵀ; semaphores keep their slots). Semaphores: 1 = a step's tiles are loaded (signalled by its last load),
/// 2/3 = an A/B buffer is free (posted twice up front; signalled by the last instruction reading the buffer's tile),
/// 4 = a C tile is drained, 5 = a C buffer is free (posted twice; signalled by the store).</para>
/// </summary>
public static class MatmulKernel
{
    private const int SemLoaded = 1, SemFreeA = 2, SemFreeB = 3, SemDrained = 4, SemFreeC = 5;

    public static AsmProgram Emit(NpuTarget t, MatmulTiles tiles, TensorDecl a, TensorDecl b, TensorDecl c, string type)
    {
        if (t.Semaphores < SemFreeC)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"the matmul kernel needs {SemFreeC} semaphores; target {t.Name} has {t.Semaphores}");
        }

        return Assembler.Assemble(Text(t, tiles, a, b, c, type), "<npu-matmul>");
    }

    /// <summary>The program as assembly text (what <see cref="Emit"/> assembles): one entry point, <c>main</c>.</summary>
    public static string Text(NpuTarget t, MatmulTiles tiles, TensorDecl a, TensorDecl b, TensorDecl c, string type)
    {
        var pb = new ProgramBuilder(t);
        foreach (var tensor in new[] { a, b, c })
        {
            pb.Tensor(tensor);
        }

        pb.Entry("main");
        EmitInto(pb, tiles, (int)a.Shape[0], (int)b.Shape[1], (int)a.Shape[1], a.DramAddress, b.DramAddress, c.DramAddress, type);
        pb.Line("end");
        return pb.Text();
    }

    /// <summary>Emits the kernel's instructions (not its entry or <c>end</c>) into <paramref name="pb"/>: C[m×n] = A[m×k]·B[k×n],
    /// each operand row-major and dense at the given DRAM address.</summary>
    public static void EmitInto(ProgramBuilder pb, MatmulTiles tiles, int m, int n, int k, long aAddr, long bAddr, long cAddr, string type) =>
        EmitInto(pb, tiles, m, n, k, [(MatrixView.Dense(aAddr, k), MatrixView.Dense(bAddr, n), MatrixView.Dense(cAddr, n))], type);

    /// <summary>Emits C = A·B (each m×k, k×n, m×n, any strides) for every (A, B, C) of <paramref name="batches"/>, in one
    /// kernel: the tile steps of all batch elements form one pipeline, and a tile whose DRAM bytes equal the previous
    /// step's (a broadcast operand) is not reloaded.</summary>
    public static void EmitInto(ProgramBuilder pb, MatmulTiles tiles, int m, int n, int k, IReadOnlyList<(MatrixView A, MatrixView B, MatrixView C)> batches, string type)
    {
        const int e = 2;
        var t = pb.Target;
        if (t.Semaphores < SemFreeC)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"the matmul kernel needs {SemFreeC} semaphores; target {t.Name} has {t.Semaphores}");
        }

        int rows = t.MatrixRows, cols = t.MatrixCols, kt = tiles.Kt;
        bool tr = tiles.StationaryA;

        // In the kernel's own terms X[P×Q] = S[P×K] · W[K×Q]: S streams through the array a row at a time, W is stationary.
        // B stationary: S = A, W = B, X = C. A stationary: S = Bᵀ, W = Aᵀ, X = Cᵀ; a transposed view only swaps its
        // strides, and the descriptors' strides and transpose flag do the rest, so nothing is transposed in memory.
        int p = tr ? n : m, q = tr ? m : n, pt = tr ? tiles.Nt : tiles.Mt, qt = tr ? tiles.Mt : tiles.Nt;
        if (!TileCostModel.Fits(t, pt, qt, kt, e))
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"tiles {tiles.Mt}x{tiles.Nt}x{kt} do not fit target {t.Name}");
        }

        long sBuf = TileCostModel.Align((long)pt * kt * e), wBuf = TileCostModel.Align((long)kt * qt * e), xBuf = TileCostModel.Align((long)pt * qt * e);
        long[] sSlot = [0, sBuf], wSlot = [2 * sBuf, 2 * sBuf + wBuf], xSlot = [2 * sBuf + 2 * wBuf, 2 * sBuf + 2 * wBuf + xBuf];
        void Line(string s) => pb.Line(s);
        static string Sync(int wait, int signal) => ProgramBuilder.Sync(wait, signal);

        // A rows × cols tile of view v into SRAM rows sRow bytes apart (d0 such tiles, ds0/ss0 apart). The DMA's inner
        // dim follows the view's contiguous one; when that is the tile's row dim, the transpose flag turns it around.
        int Tile(int d0, long ds0, long ss0, int tileRows, int tileCols, MatrixView v, long sRow) =>
            v.Col != e && v.Row == e
                ? pb.Desc(e, d0, tileCols, tileRows, ds0, v.Col, v.Row, ss0, sRow, e, transpose: true)
                : pb.Desc(e, d0, tileRows, tileCols, ds0, v.Row, v.Col, ss0, sRow, e);

        var views = batches.Select(b => tr ? (S: b.B.T, W: b.A.T, X: b.C.T) : (S: b.A, W: b.B, X: b.C)).ToList();
        pb.Comment($"{type} matmul {m}x{k} . {k}x{n}{(batches.Count > 1 ? $" x{batches.Count} batch" : "")}, tiles Mt={tiles.Mt} Nt={tiles.Nt} Kt={kt}, {(tr ? "A" : "B")} stationary");
        Line($"sem.post sem={SemFreeA} count=2");
        Line($"sem.post sem={SemFreeB} count=2");
        Line($"sem.post sem={SemFreeC} count=2");

        var steps = new List<(int Bi, int Pi, int Qi, int Ki)>();
        for (int bi = 0; bi < views.Count; bi++)
        {
            for (int pi = 0; pi < p; pi += pt)
            {
                for (int qi = 0; qi < q; qi += qt)
                {
                    for (int ki = 0; ki < k; ki += kt)
                    {
                        steps.Add((bi, pi, qi, ki));
                    }
                }
            }
        }

        // A tile is named by its DRAM address and position: equal keys are equal bytes, so the tile stays in SRAM.
        (long, int, int) SKey(int st) => (views[steps[st].Bi].S.At(steps[st].Pi, steps[st].Ki), steps[st].Pi, steps[st].Ki);
        (long, int, int) WKey(int st) => (views[steps[st].Bi].W.At(steps[st].Ki, steps[st].Qi), steps[st].Qi, steps[st].Ki);
        int sCur = -1, wCur = -1, sLoads = 0, wLoads = 0, xTiles = 0;
        for (int st = 0; st < steps.Count; st++)
        {
            var (bi, pi, qi, ki) = steps[st];
            var (sv, wv, xv) = views[bi];
            int ps = Math.Min(pt, p - pi), qs = Math.Min(qt, q - qi), ks = Math.Min(kt, k - ki);
            bool newS = st == 0 || SKey(st - 1) != SKey(st), newW = st == 0 || WKey(st - 1) != WKey(st);
            bool lastS = st == steps.Count - 1 || SKey(st + 1) != SKey(st), lastW = st == steps.Count - 1 || WKey(st + 1) != WKey(st);
            string at = batches.Count > 1 ? $"batch {bi} " : "";
            Line(tr ? $"; step {st}: {at}C[{qi}:{qi + qs}, {pi}:{pi + ps}] += A[{qi}:{qi + qs}, {ki}:{ki + ks}] . B[{ki}:{ki + ks}, {pi}:{pi + ps}]"
                    : $"; step {st}: {at}C[{pi}:{pi + ps}, {qi}:{qi + qs}] += A[{pi}:{pi + ps}, {ki}:{ki + ks}] . B[{ki}:{ki + ks}, {qi}:{qi + qs}]");

            // Loads: S then W; the step's last load signals "loaded" (the load queue is in order, so it covers both).
            // S is stored P-rows × Ks, row stride Ks.
            if (newS)
            {
                sCur = sLoads++ % 2;
                int d = Tile(1, 0, 0, ps, ks, sv, (long)ks * e);
                Line($"dma.load desc={d} sram=0x{sSlot[sCur]:x} dram=0x{sv.At(pi, ki):x}{Sync(SemFreeA, newW ? 0 : SemLoaded)}");
            }

            // W is stored as array-wide column blocks, each a contiguous Ks × cols tile (a ragged last block Ks × rem).
            int full = qs / cols, rem = qs % cols;
            if (newW)
            {
                wCur = wLoads++ % 2;
                long dram = wv.At(ki, qi), blockStep = cols * wv.Col;
                if (full > 0)
                {
                    int d = Tile(full, blockStep, (long)ks * cols * e, ks, cols, wv, (long)cols * e);
                    Line($"dma.load desc={d} sram=0x{wSlot[wCur]:x} dram=0x{dram:x}{Sync(SemFreeB, rem > 0 ? 0 : SemLoaded)}");
                }

                if (rem > 0)
                {
                    int d = Tile(1, 0, 0, ks, rem, wv, (long)rem * e);
                    Line($"dma.load desc={d} sram=0x{wSlot[wCur] + ((long)full * ks * cols * e):x} dram=0x{dram + (full * blockStep):x}{Sync(full > 0 ? 0 : SemFreeB, SemLoaded)}");
                }
            }

            // Matrix: per column block, per array-height chunk of K, load the weights and multiply-accumulate.
            int blocks = full + (rem > 0 ? 1 : 0), chunks = TileCostModel.Ceil(ks, rows);
            for (int blk = 0; blk < blocks; blk++)
            {
                int w = blk < full ? cols : rem;
                long wBase = wSlot[wCur] + ((long)blk * ks * cols * e);
                for (int j = 0; j < chunks; j++)
                {
                    int kr = Math.Min(rows, ks - (j * rows));
                    bool first = blk == 0 && j == 0, last = blk == blocks - 1 && j == chunks - 1;
                    Line($"mm.ldw src=0x{wBase + ((long)j * rows * w * e):x} k={kr} n={w} type={type}{Sync(first ? SemLoaded : 0, last && lastW ? SemFreeB : 0)}");
                    int acc = (ki > 0 || j > 0) ? 1 : 0;
                    Line($"mm.mac src=0x{sSlot[sCur] + ((long)j * rows * e):x} acc=0x{blk * ps:x} m={ps} k={kr} stride={ks * e} accumulate={acc} type={type}{Sync(0, last && lastS ? SemFreeA : 0)}");
                }
            }

            // After the last reduction step of an output tile: drain each block into an X buffer (Ps × Qs, row-major), then
            // store it through X's view (for A stationary, Cᵀ: C's strides swapped).
            if (ki + ks == k)
            {
                int xCur = xTiles++ % 2;
                for (int blk = 0; blk < blocks; blk++)
                {
                    int w = blk < full ? cols : rem;
                    Line($"mm.drain acc=0x{blk * ps:x} dst=0x{xSlot[xCur] + ((long)blk * cols * e):x} m={ps} n={w} stride={qs * e} mode={type}{Sync(blk == 0 ? SemFreeC : 0, blk == blocks - 1 ? SemDrained : 0)}");
                }

                int d = pb.Desc(e, 1, ps, qs, 0, xv.Row, xv.Col, 0, (long)qs * e, e);
                Line($"dma.store desc={d} sram=0x{xSlot[xCur]:x} dram=0x{xv.At(pi, qi):x}{Sync(SemDrained, SemFreeC)}");
            }
        }
    }
}

/// <summary>A matrix in DRAM: element (i, j) at <see cref="Addr"/> + i·<see cref="Row"/> + j·<see cref="Col"/> bytes.</summary>
public readonly record struct MatrixView(long Addr, long Row, long Col)
{
    /// <summary>A dense row-major matrix of <paramref name="cols"/> 2-byte columns.</summary>
    public static MatrixView Dense(long addr, long cols) => new(addr, cols * 2, 2);

    /// <summary>The same bytes read as the transpose.</summary>
    public MatrixView T => new(Addr, Col, Row);

    public long At(long i, long j) => Addr + (i * Row) + (j * Col);
}
