using System.Globalization;
using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>
/// The row-block pipeline of the vector kernels that are not tile dispatches yet (RoPE; docs/npu/kernels.md). A kernel
/// is described by a <see cref="Spec"/>: its row-aligned inputs (loaded per block) and its output. The engine sizes the
/// row block from the target, lays out SRAM and emits, per block, the loads, the vector work and the stores,
/// double-buffered and synchronised.
/// </summary>
public static partial class VectorKernels
{
    // 1: a block's inputs are loaded; 2: an input slot is free again (its raw data has been converted);
    // 3: a block's output is converted and ready; 4: an output slot is free again (stored).
    private const int SemLoaded = 1, SemFreeIn = 2, SemDone = 3, SemFreeOut = 4;

    /// <summary>The widest <c>n</c> of a vector instruction (u16) and the largest DMA dimension.</summary>
    private const int MaxN = VectorCode.MaxN;
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>A DMA transfer without its synchronisation.</summary>
    private readonly record struct Xfer(int Desc, long Sram, long Dram);

    /// <summary>An input with <paramref name="Elems"/> elements per row in SRAM and its loads for rows [r0, r0 + n).</summary>
    private sealed record Input(int Elems, Func<int, int, long, IEnumerable<Xfer>> Load);

    /// <summary>Where a block's vector code finds the fp32 copies of the inputs: dense, row-major, for <see cref="R"/> rows.</summary>
    private sealed class Block(VectorCode e, int r, long[] inF32)
    {
        public VectorCode E { get; } = e;
        public int R { get; } = r;
        public long In(int i) => inF32[i];
    }

    private sealed class Spec
    {
        public required string Title { get; init; }
        public required string Type { get; init; }
        public required int Rows { get; init; }
        public required long Dst { get; init; }
        public required int OutElems { get; init; }
        public List<Input> Inputs { get; } = [];
        /// <summary>Stores of a block's output (rows r0, n, SRAM address); null: dense rows at <see cref="Dst"/>.</summary>
        public Func<int, int, long, IEnumerable<Xfer>>? Store { get; init; }
        public int MaxBlockRows { get; init; } = MaxN;
        /// <summary>Emits the block's fp32 work; returns the fp32 result (OutElems per row, dense).</summary>
        public required Func<Block, long> Compute { get; init; }
    }

    /// <summary>Rows per block.</summary>
    private static int Plan(NpuTarget t, Spec s)
    {
        int inElems = s.Inputs.Sum(i => i.Elems);
        // Per row: raw inputs in two slots and their fp32 copies, raw output in two slots; 64 bytes of alignment slack
        // per buffer and two spare (the block sizes stay those of when the engine also held constants and a scratch word).
        long perRow = (inElems * (2L * 2 + 4)) + (s.OutElems * 2L * 2);
        long fix = 64L * ((3 * s.Inputs.Count) + 2 + 2);
        return ChooseRows(t, s.Title, s.Rows, perRow, fix, 2L * (inElems + s.OutElems), s.MaxBlockRows);
    }

    private static long Align(long v) => (v + 63) & ~63L;

    /// <summary>Rows per block: as many as fit SRAM (and the ISA's fields), but split into about four blocks when each
    /// block still moves at least latency × bandwidth bytes, so loads, vector work and stores overlap.</summary>
    private static int ChooseRows(NpuTarget t, string title, int rows, long perRow, long fix, long dramRowBytes, int maxRows)
    {
        long fit = (t.SramBytes - fix) / perRow;
        if (fit < 1)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name,
                $"{title}: one row needs {perRow} bytes of SRAM (plus {fix} fixed) and target {t.Name} has {t.SramBytes}; rows that long are not supported");
        }

        double minBytes = t.DmaLatencyCycles * (double)(t.DmaBandwidthGBps / t.ClockGHz);
        long pipelined = Math.Max((rows + 3L) / 4, (long)Math.Ceiling(minBytes / Math.Max(1, dramRowBytes)));
        return (int)Math.Max(1, Math.Min(Math.Min(fit, rows), Math.Min(pipelined, Math.Min(maxRows, MaxN))));
    }

    private static void Check(NpuTarget t, string title, string type, params (string Name, long Value)[] sizes)
    {
        if (type is not ("f16" or "bf16"))
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"{title}: element type {type} is not supported (f16 or bf16)");
        }

        if (t.Semaphores < SemFreeOut)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"{title}: the vector kernels need {SemFreeOut} semaphores; target {t.Name} has {t.Semaphores}");
        }

        foreach (var (name, v) in sizes)
        {
            if (v < 1)
            {
                throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"{title}: {name} must be at least 1, got {v}");
            }
        }
    }

    private static void Run(ProgramBuilder pb, Spec s)
    {
        var t = pb.Target;
        var e = new VectorCode(pb);
        int rb = Plan(t, s);

        // SRAM buffers: input slots ×2, output slots ×2, fp32 inputs.
        long top = 0;
        long Take(string name, long bytes)
        {
            long at = pb.Alloc(name, bytes);
            top = Math.Max(top, at + bytes);
            return at;
        }

        var inRaw = new long[2][];
        for (int slot = 0; slot < 2; slot++)
        {
            inRaw[slot] = s.Inputs.Select((i, n) => Take($"in{n}.{slot}", 2L * rb * i.Elems)).ToArray();
        }

        long[] outRaw = [Take("out.0", 2L * rb * s.OutElems), Take("out.1", 2L * rb * s.OutElems)];
        var inF32 = s.Inputs.Select((i, n) => Take($"in{n}.f32", 4L * rb * i.Elems)).ToArray();
        int blocks = (int)((s.Rows + (long)rb - 1) / rb);
        pb.Comment($"{s.Type} {s.Title}: {s.Rows} rows in {blocks} block(s) of {rb}, SRAM {top} of {t.SramBytes} bytes");
        pb.Line($"sem.post sem={SemFreeIn} count=2");
        pb.Line($"sem.post sem={SemFreeOut} count=2");

        for (int b = 0; b < blocks; b++)
        {
            int r0 = b * rb, n = Math.Min(rb, s.Rows - r0), slot = b % 2;
            pb.Comment($"block {b}: rows {r0}..{r0 + n}");
            var loads = s.Inputs.SelectMany((inp, i) => inp.Load(r0, n, inRaw[slot][i])).ToList();
            for (int j = 0; j < loads.Count; j++)
            {
                Load(e, loads[j], j == 0 ? SemFreeIn : 0, j == loads.Count - 1 ? SemLoaded : 0);
            }

            var cvtIn = s.Inputs.SelectMany((inp, i) => VectorCode.CvtLines(inF32[i], inRaw[slot][i], (long)n * inp.Elems, s.Type, "f32")).ToList();
            e.Synced(cvtIn, SemLoaded, SemFreeIn);
            long result = s.Compute(new Block(e, n, inF32));
            e.Synced(VectorCode.CvtLines(outRaw[slot], result, (long)n * s.OutElems, "f32", s.Type).ToList(), SemFreeOut, SemDone);

            var stores = (s.Store?.Invoke(r0, n, outRaw[slot]) ?? Flat(pb, 2, (long)n * s.OutElems, s.OutElems, outRaw[slot], s.Dst + (2L * r0 * s.OutElems))).ToList();
            for (int j = 0; j < stores.Count; j++)
            {
                Store(e, stores[j], j == 0 ? SemDone : 0, j == stores.Count - 1 ? SemFreeOut : 0);
            }
        }
    }

    /// <summary>A dense copy of <paramref name="n"/> elements: rows of <paramref name="width"/> elements (at most
    /// 65535 rows each, the DMA's dimension limit), then the remainder.</summary>
    private static IEnumerable<Xfer> Flat(ProgramBuilder pb, int elem, long n, int width, long sram, long dram)
    {
        width = (int)Math.Min(Math.Min(width, MaxN), n);
        long done = 0;
        for (long q = n / width; q > 0;)
        {
            int k = (int)Math.Min(q, MaxN);
            yield return new Xfer(pb.Rows(elem, k, width, (long)width * elem, (long)width * elem), sram + (done * elem), dram + (done * elem));
            done += (long)k * width;
            q -= k;
        }

        if (n > done)
        {
            yield return new Xfer(pb.Rows(elem, 1, (int)(n - done), 0, 0), sram + (done * elem), dram + (done * elem));
        }
    }

    private static void Load(VectorCode e, Xfer x, int wait, int signal) =>
        e.Pb.Line(string.Create(Ci, $"dma.load desc={x.Desc} sram=0x{x.Sram:x} dram=0x{x.Dram:x}{ProgramBuilder.Sync(wait, signal)}"));

    private static void Store(VectorCode e, Xfer x, int wait, int signal) =>
        e.Pb.Line(string.Create(Ci, $"dma.store desc={x.Desc} sram=0x{x.Sram:x} dram=0x{x.Dram:x}{ProgramBuilder.Sync(wait, signal)}"));
}
