namespace Tessera.Npu.Lowering;

/// <summary>
/// The one kernel that is only DMA, for the copies a lowering makes itself (the attention output's permute, an output
/// that is an input or constant); the graph's data-movement ops go through the tile dialect (npu-move-to-tile). A
/// transpose is a load whose DRAM strides walk the source in the destination's order, then a contiguous store. Chunks
/// along the destination's outer dims fill half of SRAM each, two in flight, so the load of one chunk overlaps the store
/// of the previous (semaphore 1: chunk loaded; 2: buffer free, posted twice).
/// </summary>
public static partial class DmaKernels
{
    private const int SemLoaded = 1, SemFree = 2;

    /// <summary>dst = transpose(src, perm) for a shape already collapsed (≤ 3 dims); <paramref name="elem"/> is 1, 2 or 4 bytes.</summary>
    public static void Permute(ProgramBuilder pb, long[] shape, int[] perm, long src, long dst, int elem)
    {
        // Pad to three dims with leading units.
        int pad = 3 - shape.Length;
        var s = Enumerable.Repeat(1L, pad).Concat(shape).ToArray();
        var p = Enumerable.Range(0, pad).Concat(perm.Select(x => x + pad)).ToArray();
        var srcStride = new long[3];
        long acc = elem;
        for (int i = 2; i >= 0; i--)
        {
            srcStride[i] = acc;
            acc *= s[i];
        }

        long d0 = s[p[0]], d1 = s[p[1]], d2 = s[p[2]];
        long half = (pb.Target.SramBytes / 2) & ~63L;
        if (d2 * elem > half || d2 > 65535)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, pb.Target.Name, $"a transpose whose innermost run is {d2} elements does not fit half of SRAM ({half} bytes) or a DMA dim");
        }

        long c1 = Math.Min(Math.Min(d1, 65535), half / (d2 * elem));
        long c0 = c1 < d1 ? 1 : Math.Min(Math.Min(d0, 65535), half / (d1 * d2 * elem));
        long[] bufs = [pb.Alloc("chunk0", c0 * c1 * d2 * elem), pb.Alloc("chunk1", c0 * c1 * d2 * elem)];
        pb.Line($"sem.post sem={SemFree} count=2");
        int chunk = 0;
        for (long i0 = 0; i0 < d0; i0 += c0)
        {
            for (long i1 = 0; i1 < d1; i1 += c1)
            {
                int n0 = (int)Math.Min(c0, d0 - i0), n1 = (int)Math.Min(c1, d1 - i1);
                long buf = bufs[chunk++ % 2];
                int load = pb.Desc(elem, n0, n1, (int)d2, srcStride[p[0]], srcStride[p[1]], srcStride[p[2]], (long)n1 * d2 * elem, d2 * elem, elem);
                int store = pb.Desc(elem, n0, n1, (int)d2, d1 * d2 * elem, d2 * elem, elem, (long)n1 * d2 * elem, d2 * elem, elem);
                long from = src + (i0 * srcStride[p[0]]) + (i1 * srcStride[p[1]]);
                long to = dst + (((i0 * d1 * d2) + (i1 * d2)) * elem);
                pb.Line($"dma.load desc={load} sram=0x{buf:x} dram=0x{from:x}{ProgramBuilder.Sync(SemFree, SemLoaded)}");
                pb.Line($"dma.store desc={store} sram=0x{buf:x} dram=0x{to:x}{ProgramBuilder.Sync(SemLoaded, SemFree)}");
            }
        }
    }
}
