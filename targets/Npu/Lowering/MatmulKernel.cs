using System.Globalization;
using System.Text;
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
/// <para>SRAM: two buffers each for A, B and C. Semaphores: 1 = a step's tiles are loaded (signalled by its last load),
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

    /// <summary>The program as assembly text (what <see cref="Emit"/> assembles).</summary>
    public static string Text(NpuTarget t, MatmulTiles tiles, TensorDecl a, TensorDecl b, TensorDecl c, string type)
    {
        const int e = 2;
        int m = (int)a.Shape[0], k = (int)a.Shape[1], n = (int)b.Shape[1];
        int mt = tiles.Mt, nt = tiles.Nt, kt = tiles.Kt, rows = t.MatrixRows, cols = t.MatrixCols;
        if (!TileCostModel.Fits(t, mt, nt, kt, e))
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"tiles {mt}x{nt}x{kt} do not fit target {t.Name}");
        }

        long aBuf = TileCostModel.Align((long)mt * kt * e), bBuf = TileCostModel.Align((long)kt * nt * e), cBuf = TileCostModel.Align((long)mt * nt * e);
        long[] aSlot = [0, aBuf], bSlot = [2 * aBuf, 2 * aBuf + bBuf], cSlot = [2 * aBuf + 2 * bBuf, 2 * aBuf + 2 * bBuf + cBuf];

        var ci = CultureInfo.InvariantCulture;
        var head = new StringBuilder();
        var body = new StringBuilder();
        var descs = new Dictionary<string, int>(StringComparer.Ordinal);
        int Desc(int d0, int d1, int d2, long ds0, long ds1, long ds2, long ss0, long ss1, long ss2)
        {
            var key = string.Create(ci, $"dims={d0},{d1},{d2} dram_strides={ds0},{ds1},{ds2} sram_strides={ss0},{ss1},{ss2} elem={e}");
            if (!descs.TryGetValue(key, out int id))
            {
                id = descs.Count;
                descs[key] = id;
                head.Append(ci, $".desc {id} {key}\n");
            }

            return id;
        }

        void Line(string s) => body.Append(s).Append('\n');
        static string Sync(int wait, int signal) =>
            (wait > 0 ? $" wait={wait}" : "") + (signal > 0 ? $" signal={signal}" : "");

        head.Append(ci, $".target {t.Name}\n");
        head.Append(ci, $"; {type} matmul {m}x{k} . {k}x{n}, tiles Mt={mt} Nt={nt} Kt={kt}\n");
        Line($"sem.post sem={SemFreeA} count=2");
        Line($"sem.post sem={SemFreeB} count=2");
        Line($"sem.post sem={SemFreeC} count=2");

        var steps = new List<(int Mi, int Ni, int Ki)>();
        for (int mi = 0; mi < m; mi += mt)
        {
            for (int ni = 0; ni < n; ni += nt)
            {
                for (int ki = 0; ki < k; ki += kt)
                {
                    steps.Add((mi, ni, ki));
                }
            }
        }

        int aCur = -1, bCur = -1, aLoads = 0, bLoads = 0, cTiles = 0;
        for (int s = 0; s < steps.Count; s++)
        {
            var (mi, ni, ki) = steps[s];
            int ms = Math.Min(mt, m - mi), ns = Math.Min(nt, n - ni), ks = Math.Min(kt, k - ki);
            bool newA = s == 0 || (steps[s - 1].Mi, steps[s - 1].Ki) != (mi, ki);
            bool newB = s == 0 || (steps[s - 1].Ni, steps[s - 1].Ki) != (ni, ki);
            bool lastA = s == steps.Count - 1 || (steps[s + 1].Mi, steps[s + 1].Ki) != (mi, ki);
            bool lastB = s == steps.Count - 1 || (steps[s + 1].Ni, steps[s + 1].Ki) != (ni, ki);
            Line($"; step {s}: A[{mi}:{mi + ms}, {ki}:{ki + ks}] B[{ki}:{ki + ks}, {ni}:{ni + ns}]");

            // Loads: A then B; the step's last load signals "loaded" (the load queue is in order, so it covers both).
            if (newA)
            {
                aCur = aLoads++ % 2;
                int d = Desc(1, ms, ks, 0, (long)k * e, e, 0, (long)ks * e, e);
                Line($"dma.load desc={d} sram=0x{aSlot[aCur]:x} dram=0x{a.DramAddress + ((long)mi * k + ki) * e:x}{Sync(SemFreeA, newB ? 0 : SemLoaded)}");
            }

            int full = ns / cols, rem = ns % cols;
            if (newB)
            {
                bCur = bLoads++ % 2;
                long dram = b.DramAddress + ((long)ki * n + ni) * e;
                if (full > 0)
                {
                    int d = Desc(full, ks, cols, (long)cols * e, (long)n * e, e, (long)ks * cols * e, (long)cols * e, e);
                    Line($"dma.load desc={d} sram=0x{bSlot[bCur]:x} dram=0x{dram:x}{Sync(SemFreeB, rem > 0 ? 0 : SemLoaded)}");
                }

                if (rem > 0)
                {
                    int d = Desc(1, ks, rem, 0, (long)n * e, e, 0, (long)rem * e, e);
                    Line($"dma.load desc={d} sram=0x{bSlot[bCur] + (long)full * ks * cols * e:x} dram=0x{dram + (long)full * cols * e:x}{Sync(full > 0 ? 0 : SemFreeB, SemLoaded)}");
                }
            }

            // Matrix: per column block, per array-height chunk of K, load the weights and multiply-accumulate.
            int blocks = full + (rem > 0 ? 1 : 0), chunks = TileCostModel.Ceil(ks, rows);
            for (int blk = 0; blk < blocks; blk++)
            {
                int w = blk < full ? cols : rem;
                long bBase = bSlot[bCur] + (long)blk * ks * cols * e;
                for (int j = 0; j < chunks; j++)
                {
                    int kr = Math.Min(rows, ks - j * rows);
                    bool first = blk == 0 && j == 0, last = blk == blocks - 1 && j == chunks - 1;
                    Line($"mm.ldw src=0x{bBase + (long)j * rows * w * e:x} k={kr} n={w} type={type}{Sync(first ? SemLoaded : 0, last && lastB ? SemFreeB : 0)}");
                    int acc = (ki > 0 || j > 0) ? 1 : 0;
                    Line($"mm.mac src=0x{aSlot[aCur] + (long)j * rows * e:x} acc=0x{blk * ms:x} m={ms} k={kr} stride={ks * e} accumulate={acc} type={type}{Sync(0, last && lastA ? SemFreeA : 0)}");
                }
            }

            // After the last reduction step of an output tile: drain each block into a C buffer, then store the tile.
            if (ki + ks == k)
            {
                int cCur = cTiles++ % 2;
                for (int blk = 0; blk < blocks; blk++)
                {
                    int w = blk < full ? cols : rem;
                    Line($"mm.drain acc=0x{blk * ms:x} dst=0x{cSlot[cCur] + (long)blk * cols * e:x} m={ms} n={w} stride={ns * e} mode={type}{Sync(blk == 0 ? SemFreeC : 0, blk == blocks - 1 ? SemDrained : 0)}");
                }

                int d = Desc(1, ms, ns, 0, (long)n * e, e, 0, (long)ns * e, e);
                Line($"dma.store desc={d} sram=0x{cSlot[cCur]:x} dram=0x{c.DramAddress + ((long)mi * n + ni) * e:x}{Sync(SemDrained, SemFreeC)}");
            }
        }

        Line("end");
        foreach (var tensor in new[] { a, b, c })
        {
            head.Append(ci, $".tensor {tensor.Name} {tensor.Role} dram=0x{tensor.DramAddress:x} shape={string.Join(',', tensor.Shape)} type={tensor.Type}\n");
        }

        head.Append(".entry main\n");
        return head.ToString() + body;
    }
}
