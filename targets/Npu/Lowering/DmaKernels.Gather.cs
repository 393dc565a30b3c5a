namespace Tessera.Npu.Lowering;

public static partial class DmaKernels
{
    /// <summary>
    /// An embedding lookup: output row r (<paramref name="cols"/> elements of <paramref name="elem"/> bytes) is row ids[r]
    /// of the table [<paramref name="rows"/> × cols]; the <paramref name="count"/> int64 ids are in DRAM. Per chunk of ids:
    /// load them into SRAM, <c>dma.gather</c> their rows (the load queue keeps the two in order), store the rows densely;
    /// two buffer pairs (semaphore 1: chunk gathered; 2: its buffers free, posted twice) overlap a chunk's gather with the
    /// previous chunk's store. An id outside the table stops the run (the gather checks it).
    /// </summary>
    public static void Gather(ProgramBuilder pb, long count, long rows, long cols, int elem, long ids, long table, long dst)
    {
        long half = (pb.Target.SramBytes / 2) & ~63L, rowBytes = cols * elem;
        if (GatherReason(rows, cols, elem, half) is { } why)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, pb.Target.Name, why);
        }

        // Ids load as pairs of 4-byte elements (a descriptor moves at most 4-byte ones; bytes are bytes).
        long chunk = Math.Min(Math.Min(count, MaxDim / 2), (half - 128) / (rowBytes + 8));
        long[] rowBufs = [pb.Alloc("rows0", chunk * rowBytes), pb.Alloc("rows1", chunk * rowBytes)];
        long[] idBufs = [pb.Alloc("ids0", chunk * 8), pb.Alloc("ids1", chunk * 8)];
        pb.Line($"sem.post sem={SemFree} count=2");
        int slot = 0;
        for (long r0 = 0; r0 < count; r0 += chunk, slot ^= 1)
        {
            int k = (int)Math.Min(chunk, count - r0);
            int load = pb.Rows(4, 1, 2 * k, 0, 0);
            int gather = pb.Desc(elem, 1, k, (int)cols, 0, rowBytes, elem, 0, rowBytes, elem, padValue: (int)rows);
            int store = pb.Rows(elem, k, (int)cols, rowBytes, rowBytes);
            pb.Line($"dma.load desc={load} sram=0x{idBufs[slot]:x} dram=0x{ids + (8 * r0):x}{ProgramBuilder.Sync(SemFree, 0)}");
            pb.Line($"dma.gather desc={gather} sram=0x{rowBufs[slot]:x} dram=0x{table:x} idx=0x{idBufs[slot]:x}{ProgramBuilder.Sync(0, SemLoaded)}");
            pb.Line($"dma.store desc={store} sram=0x{rowBufs[slot]:x} dram=0x{dst + (r0 * rowBytes):x}{ProgramBuilder.Sync(SemLoaded, SemFree)}");
        }
    }

    /// <summary>Why a table cannot be gathered by the DMA (elements it cannot move, a row wider than a DMA dim or than
    /// half of SRAM, more rows than the descriptor's int32 row count), or null.</summary>
    public static string? GatherReason(long rows, long cols, int elem, long halfSram) =>
        elem is not (1 or 2 or 4) ? $"a gather of {elem}-byte elements (the DMA moves 1, 2 or 4)"
        : cols is < 1 or > MaxDim ? "table rows wider than the DMA's 65535 elements"
        : rows is < 1 or > int.MaxValue ? "a table of more than 2^31 rows"
        : (cols * elem) + 8 > halfSram - 128 ? "one table row does not fit half of SRAM"
        : null;
}
