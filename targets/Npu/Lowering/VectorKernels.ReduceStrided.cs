namespace Tessera.Npu.Lowering;

/// <summary>Reductions over any set of axes.</summary>
public static partial class VectorKernels
{
    /// <summary>
    /// dst[kept index] = op over the reduced indices of a, for reduced axes that need not be one run (e.g. axes 0 and 2
    /// of three). a's dims are given as <paramref name="kept"/> and <paramref name="reduced"/> lists of (size, element
    /// stride) in a's order, dst is dense over the kept dims. The loads gather each block's rows (box by box over the
    /// kept index space, the reduced dims innermost) into dense SRAM rows, so the vector work is <see cref="Reduce(ProgramBuilder, string, int, int, int, long, long, string)"/>'s.
    /// </summary>
    public static void Reduce(ProgramBuilder pb, string op, (long N, long Stride)[] kept, (long N, long Stride)[] reduced, long a, long dst, string type)
    {
        long rows = kept.Aggregate(1L, (p, d) => p * d.N), red = reduced.Aggregate(1L, (p, d) => p * d.N);
        string title = $"reduce-{op} keeping {string.Join("x", kept.Select(d => d.N))} over {string.Join("x", reduced.Select(d => d.N))}";
        Check(pb.Target, title, type, ("rows", rows), ("reduce", red));
        if (!ReduceOps.Contains(op))
        {
            throw Unsupported(pb, $"{title}: no reduction '{op}' (have {string.Join(", ", ReduceOps)})");
        }

        if (kept.Concat(reduced).Any(d => d.N > MaxN) || rows > int.MaxValue || red > int.MaxValue)
        {
            throw Unsupported(pb, $"{title}: every dim must be ≤ {MaxN} (a DMA dimension)");
        }

        (long N, long Stride)[] k = kept.Length == 0 ? [(1, 0)] : kept;
        ReduceRows(pb, op, title, type, (int)rows, (int)red, dst, new Input((int)red, (r0, n, sram) => Boxes(pb, k, reduced, a, r0, n, sram)));
    }

    /// <summary>Loads rows [r0, r0 + n) densely, each row the reduced elements of one kept index. The rows split into
    /// boxes: from row r, the outermost kept dim whose lower digits are zero at r and one step of which still fits takes
    /// as many steps as fit, with every dim below it whole; a box's dims merge where a's strides are contiguous, and
    /// dims beyond a descriptor's three are looped.</summary>
    private static IEnumerable<Xfer> Boxes(ProgramBuilder pb, (long N, long Stride)[] kept, (long N, long Stride)[] reduced, long a, int r0, int n, long sram)
    {
        const int e = 2;
        var span = new long[kept.Length];
        long acc = 1;
        for (int d = kept.Length - 1; d >= 0; d--)
        {
            span[d] = acc;
            acc *= kept[d].N;
        }

        long red = reduced.Aggregate(1L, (p, x) => p * x.N);
        for (long r = r0, end = (long)r0 + n; r < end;)
        {
            int d = 0;
            while (r % span[d] != 0 || end - r < span[d])
            {
                d++;
            }

            long cnt = Math.Min(kept[d].N - ((r / span[d]) % kept[d].N), (end - r) / span[d]);
            long src = a;
            for (int i = 0; i < kept.Length; i++)
            {
                src += (r / span[i]) % kept[i].N * kept[i].Stride * e;
            }

            var dims = new List<(long N, long S)> { (cnt, kept[d].Stride) };
            dims.AddRange(kept.Skip(d + 1));
            dims.AddRange(reduced);
            dims.RemoveAll(x => x.N == 1);
            for (int i = dims.Count - 2; i >= 0; i--)
            {
                if (dims[i].S == dims[i + 1].S * dims[i + 1].N && dims[i].N * dims[i + 1].N <= MaxN)
                {
                    dims[i] = (dims[i].N * dims[i + 1].N, dims[i + 1].S);
                    dims.RemoveAt(i + 1);
                }
            }

            while (dims.Count < 3)
            {
                dims.Insert(0, (1, 0));
            }

            int m = dims.Count;
            var (d0, d1, d2) = (dims[m - 3], dims[m - 2], dims[m - 1]);
            int desc = pb.Desc(e, (int)d0.N, (int)d1.N, (int)d2.N, d0.S * e, d1.S * e, d2.S * e, d1.N * d2.N * e, d2.N * e, e);
            long inner = d0.N * d1.N * d2.N, outerCount = dims.Take(m - 3).Aggregate(1L, (p, x) => p * x.N);
            for (long o = 0; o < outerCount; o++)
            {
                // o's digits over the looped dims 0..m-4, the last fastest.
                long off = 0, below = 1;
                for (int i = m - 4; i >= 0; i--)
                {
                    off += (o / below) % dims[i].N * dims[i].S * e;
                    below *= dims[i].N;
                }

                yield return new Xfer(desc, sram + (((r - r0) * red) + (o * inner)) * e, src + off);
            }

            r += cnt * span[d];
        }
    }
}
