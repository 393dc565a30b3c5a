namespace Tessera.Npu.Lowering;

/// <summary>RoPE (the norms, softmax and element-wise ops are tile dispatches: passes/Npu/RowKernels.cs).</summary>
public static partial class VectorKernels
{
    /// <summary>
    /// Rotary embedding, non-interleaved: x is rows × (heads·headDim), cos and sin are rows × headDim; per head
    /// y = x·cos + rotate_half(x)·sin with rotate_half(x) = (−x[half:], x[:half]).
    /// <para>The DMA splits the halves: x goes to SRAM as all first halves of the block's (row, head) pairs, then all
    /// second halves, and cos/sin are replicated over heads with a zero DRAM stride in the same layout. Then
    /// y₁ = x₁c₁ − x₂s₁ and y₂ = x₂c₂ + x₁s₂ are six dense vector instructions per block, and the store undoes the split.</para>
    /// </summary>
    public static void Rope(ProgramBuilder pb, int rows, int heads, int headDim, long x, long cos, long sin, long dst, string type)
    {
        const int e2 = 2;
        string title = $"rope {rows}x{heads}x{headDim}";
        Check(pb.Target, title, type, ("rows", rows), ("heads", heads), ("headDim", headDim));
        if (headDim % 2 != 0 || headDim / 2 > MaxN || heads > MaxN || (long)heads * headDim > pb.Target.SramBytes)
        {
            throw Unsupported(pb, $"{title}: RoPE needs an even head size with half ≤ {MaxN}, at most {MaxN} heads (DMA dimensions) and a row shorter than SRAM");
        }

        int half = headDim / 2, width = heads * headDim;

        // x or y as [2][n·heads][half] in SRAM (dims ≤ 65535: n·heads is bounded by MaxBlockRows).
        Xfer Split(long dram, long sram, int r0, int n) =>
            new(pb.Desc(e2, 2, n * heads, half, half * e2, (long)headDim * e2, e2, (long)n * heads * half * e2, (long)half * e2, e2), sram, dram + ((long)r0 * width * e2));
        IEnumerable<Xfer> Table(long dram, int r0, int n, long sram)
        {
            int d = pb.Desc(e2, n, heads, half, (long)headDim * e2, 0, e2, (long)heads * half * e2, (long)half * e2, e2);
            for (int p = 0; p < 2; p++)
            {
                yield return new Xfer(d, sram + ((long)p * n * heads * half * e2), dram + ((((long)r0 * headDim) + ((long)p * half)) * e2));
            }
        }

        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = width, MaxBlockRows = MaxN / heads,
            Store = (r0, n, sram) => [Split(dst, sram, r0, n)],
            Compute = k =>
            {
                var e = k.E;
                long xs = k.In(0), c = k.In(1), sn = k.In(2), n = (long)k.R * heads * half, h = 4 * n;
                e.Bin("mul", c, xs, c, n);                 // x₁c₁
                e.Bin("mul", sn, xs + h, sn, n);           // x₂s₁
                e.Bin("sub", c, c, sn, n);                 // y₁
                e.Bin("mul", c + h, xs + h, c + h, n);     // x₂c₂
                e.Bin("mul", sn + h, xs, sn + h, n);       // x₁s₂
                e.Bin("add", c + h, c + h, sn + h, n);     // y₂
                return c;
            },
        };
        s.Inputs.Add(new Input(width, (r0, n, sram) => [Split(x, sram, r0, n)]));
        s.Inputs.Add(new Input(width, (r0, n, sram) => Table(cos, r0, n, sram)));
        s.Inputs.Add(new Input(width, (r0, n, sram) => Table(sin, r0, n, sram)));
        Run(pb, s);
    }
}
