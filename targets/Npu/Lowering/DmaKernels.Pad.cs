namespace Tessera.Npu.Lowering;

public static partial class DmaKernels
{
    /// <summary>
    /// Constant padding of one axis: x, viewed as [outer, n, inner] elements of <paramref name="elem"/> bytes, becomes
    /// y = [outer, before + n + after, inner], the new elements holding <paramref name="padBits"/>. The DMA load pads dim 1
    /// itself, so each chunk of outer slices is one padded load into SRAM and one dense store, through two buffers
    /// (semaphore 1: chunk loaded; 2: buffer free, posted twice).
    /// </summary>
    public static void Pad(ProgramBuilder pb, long outer, long n, long inner, long before, long after, int elem, int padBits, long src, long dst)
    {
        long p = before + n + after, plane = p * inner * elem;
        long half = (pb.Target.SramBytes / 2) & ~63L;
        if (PadReason(n, inner, before, after, elem, half) is { } why)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, pb.Target.Name, why);
        }

        long chunk = Math.Min(Math.Min(outer, MaxDim), half / plane);
        long[] bufs = [pb.Alloc("pad0", chunk * plane), pb.Alloc("pad1", chunk * plane)];
        pb.Line($"sem.post sem={SemFree} count=2");
        int i = 0;
        for (long o = 0; o < outer; o += chunk)
        {
            int k = (int)Math.Min(chunk, outer - o);
            long buf = bufs[i++ % 2];
            int load = pb.Desc(elem, k, (int)n, (int)inner, n * inner * elem, inner * elem, elem, plane, inner * elem, elem,
                pad: [(int)before, (int)after, 0, 0], padValue: padBits);
            int store = pb.Desc(elem, k, (int)p, (int)inner, plane, inner * elem, elem, plane, inner * elem, elem);
            pb.Line($"dma.load desc={load} sram=0x{buf:x} dram=0x{src + (o * n * inner * elem):x}{ProgramBuilder.Sync(SemFree, SemLoaded)}");
            pb.Line($"dma.store desc={store} sram=0x{buf:x} dram=0x{dst + (o * plane):x}{ProgramBuilder.Sync(SemLoaded, SemFree)}");
        }
    }

    /// <summary>Why a pad of these sizes cannot be a padded load (a DMA dim or pad count over 65535, an element the pad
    /// value cannot fill, or one padded slice larger than half of SRAM), or null.</summary>
    public static string? PadReason(long n, long inner, long before, long after, int elem, long halfSram) =>
        elem is not (1 or 2 or 4) ? $"a pad of {elem}-byte elements (the DMA pads 1, 2 or 4 bytes)"
        : new[] { n, inner, before + n + after }.Any(d => d is < 1 or > MaxDim) || before > MaxDim || after > MaxDim ? "a padded dim beyond the DMA's 65535"
        : (before + n + after) * inner * elem > halfSram ? "one padded slice does not fit half of SRAM"
        : null;
}
