namespace Tessera.Npu.Lowering;

/// <summary>One strided copy: the element at index (i₀, …, iₙ₋₁) of <see cref="Shape"/> goes from
/// <c>Src + Σ iₖ·SrcStrides[k]</c> to <c>Dst + Σ iₖ·DstStrides[k]</c> (addresses and strides in bytes; strides may be
/// negative, e.g. a slice with a negative step).</summary>
public sealed record StridedCopy(long[] Shape, long[] SrcStrides, long Src, long[] DstStrides, long Dst);

/// <summary>Slice, concat and split: every one is a set of strided copies, each moved DRAM → SRAM → DRAM by a load
/// whose DRAM strides walk the source view and a store whose DRAM strides walk the destination view.</summary>
public static partial class DmaKernels
{
    private const int MaxDim = 65535;

    /// <summary>Emits every copy in one kernel, in order, through two half-SRAM buffers (semaphore 1: chunk loaded;
    /// 2: buffer free, posted twice), so a chunk's load overlaps the previous chunk's store. Elements of 8 bytes move as
    /// two 4-byte ones. Dims that are contiguous in both views merge; dims beyond the descriptor's three are looped.</summary>
    public static void Copy(ProgramBuilder pb, IReadOnlyList<StridedCopy> copies, int elem)
    {
        if (elem is not (1 or 2 or 4 or 8))
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, pb.Target.Name, $"a DMA copy of {elem}-byte elements is not supported");
        }

        int e = Math.Min(elem, 4);
        long half = (pb.Target.SramBytes / 2) & ~63L;
        long[] bufs = [pb.Alloc("chunk0", half), pb.Alloc("chunk1", half)];
        pb.Line($"sem.post sem={SemFree} count=2");
        int chunk = 0;
        foreach (var c in copies)
        {
            var (s, a, b) = Collapse(c, elem);
            if (s.Any(d => d == 0))
            {
                continue;
            }

            int n = s.Length;
            long d0 = s[n - 3], d1 = s[n - 2], d2 = s[n - 1];

            // Chunk the innermost dims that fit: a whole d2 run (or pieces of it), then as many d1 rows, then d0 planes.
            long c2 = Math.Min(d2, Math.Min(MaxDim, half / e));
            long c1 = c2 < d2 ? 1 : Math.Min(d1, Math.Min(MaxDim, half / (d2 * e)));
            long c0 = c1 < d1 ? 1 : Math.Min(d0, Math.Min(MaxDim, half / (d1 * d2 * e)));
            var outer = new long[n - 3];
            do
            {
                long src = c.Src, dst = c.Dst;
                for (int k = 0; k < outer.Length; k++)
                {
                    src += outer[k] * a[k];
                    dst += outer[k] * b[k];
                }

                for (long i0 = 0; i0 < d0; i0 += c0)
                {
                    for (long i1 = 0; i1 < d1; i1 += c1)
                    {
                        for (long i2 = 0; i2 < d2; i2 += c2)
                        {
                            int n0 = (int)Math.Min(c0, d0 - i0), n1 = (int)Math.Min(c1, d1 - i1), n2 = (int)Math.Min(c2, d2 - i2);
                            long buf = bufs[chunk++ % 2], ss1 = (long)n2 * e, ss0 = n1 * ss1;
                            int load = pb.Desc(e, n0, n1, n2, a[n - 3], a[n - 2], a[n - 1], ss0, ss1, e);
                            int store = pb.Desc(e, n0, n1, n2, b[n - 3], b[n - 2], b[n - 1], ss0, ss1, e);
                            long from = src + (i0 * a[n - 3]) + (i1 * a[n - 2]) + (i2 * a[n - 1]);
                            long to = dst + (i0 * b[n - 3]) + (i1 * b[n - 2]) + (i2 * b[n - 1]);
                            pb.Line($"dma.load desc={load} sram=0x{buf:x} dram=0x{from:x}{ProgramBuilder.Sync(SemFree, SemLoaded)}");
                            pb.Line($"dma.store desc={store} sram=0x{buf:x} dram=0x{to:x}{ProgramBuilder.Sync(SemLoaded, SemFree)}");
                        }
                    }
                }
            }
            while (Next(outer, s));
        }
    }

    /// <summary>The copy's dims with unit dims dropped and dims merged where both views are contiguous across them,
    /// in 4-byte elements when <paramref name="elem"/> is 8, padded in front to at least three.</summary>
    private static (long[] Shape, long[] Src, long[] Dst) Collapse(StridedCopy c, int elem)
    {
        var dims = new List<(long N, long A, long B)>();
        for (int k = 0; k < c.Shape.Length; k++)
        {
            if (c.Shape[k] != 1)
            {
                dims.Add((c.Shape[k], c.SrcStrides[k], c.DstStrides[k]));
            }
        }

        if (elem == 8)
        {
            dims.Add((2, 4, 4));
        }

        for (int k = dims.Count - 2; k >= 0; k--)
        {
            var (o, i) = (dims[k], dims[k + 1]);
            if (o.A == i.A * i.N && o.B == i.B * i.N)
            {
                dims[k] = (o.N * i.N, i.A, i.B);
                dims.RemoveAt(k + 1);
            }
        }

        while (dims.Count < 3)
        {
            dims.Insert(0, (1, 0, 0));
        }

        return (dims.Select(d => d.N).ToArray(), dims.Select(d => d.A).ToArray(), dims.Select(d => d.B).ToArray());
    }

    /// <summary>Advances an odometer over the leading dims of <paramref name="shape"/>; false after the last index.</summary>
    private static bool Next(long[] index, long[] shape)
    {
        for (int k = index.Length - 1; k >= 0; k--)
        {
            if (++index[k] < shape[k])
            {
                return true;
            }

            index[k] = 0;
        }

        return false;
    }

    /// <summary>Row-major strides in bytes of a dense tensor.</summary>
    public static long[] DenseStrides(long[] shape, int elem)
    {
        var s = new long[shape.Length];
        long acc = elem;
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            s[k] = acc;
            acc *= shape[k];
        }

        return s;
    }
}
