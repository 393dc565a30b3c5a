namespace Tessera.Npu.Lowering;

/// <summary>Kernels that reduce along a row (softmax, norms) and RoPE.</summary>
public static partial class VectorKernels
{
    /// <summary>dst = softmax(a) along each row: exp(x − max) / Σ exp(x − max).</summary>
    public static void Softmax(ProgramBuilder pb, int rows, int cols, long a, long dst, string type)
    {
        string title = $"softmax {rows}x{cols}";
        Check(pb.Target, title, type, ("rows", rows), ("cols", cols));
        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = cols, ScalarRows = 1,
            Compute = k =>
            {
                var e = k.E;
                long x = k.In(0), m = k.Scalars(0), rowBytes = 4L * cols;
                e.Rows(k.R, rowBytes, () =>
                {
                    e.Reduce("rmax", R2(m), R1(x), cols, k.Tmp);
                    e.Bin("sub", R1(x), R1(x), R2(m), cols, bcast: true);
                });
                e.Un("exp", x, x, (long)k.R * cols);
                e.Rows(k.R, rowBytes, () => e.Reduce("rsum", R2(m), R1(x), cols, k.Tmp));
                e.Un("recip", m, m, k.R);
                e.Rows(k.R, rowBytes, () => e.Bin("mul", R1(x), R1(x), R2(m), cols, bcast: true));
                return x;
            },
        };
        s.Inputs.Add(Dense(pb, a, cols));
        Run(pb, s);
    }

    /// <summary>dst = x / sqrt(mean(x²) + eps) · weight, weight a cols vector of the same type.</summary>
    public static void RmsNorm(ProgramBuilder pb, int rows, int cols, long x, long weight, float eps, long dst, string type)
    {
        string title = $"rms-norm {rows}x{cols}";
        Check(pb.Target, title, type, ("rows", rows), ("cols", cols));
        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = cols, WorkRows = 1, ScalarRows = 1,
            Consts = [1f / cols, eps],
            Compute = k =>
            {
                var e = k.E;
                long v = k.In(0), sq = k.Work(0), r = k.Scalars(0), n = (long)k.R * cols, rowBytes = 4L * cols;
                e.Bin("mul", sq, v, v, n);
                e.Rows(k.R, rowBytes, () => e.Reduce("rsum", R2(r), R1(sq), cols, k.Tmp));
                InvStd(e, k, r);
                e.Rows(k.R, rowBytes, () =>
                {
                    e.Bin("mul", R1(v), R1(v), R2(r), cols, bcast: true);
                    e.Bin("mul", R1(v), R1(v), k.Vector(0), cols);
                });
                return v;
            },
        };
        s.Inputs.Add(Dense(pb, x, cols));
        s.Vectors.Add((weight, cols));
        Run(pb, s);
    }

    /// <summary>dst = (x − mean) / sqrt(var + eps) · weight + bias (biased variance, as in layer norm); bias &lt; 0: none.</summary>
    public static void LayerNorm(ProgramBuilder pb, int rows, int cols, long x, long weight, long bias, float eps, long dst, string type)
    {
        string title = $"layer-norm {rows}x{cols}";
        Check(pb.Target, title, type, ("rows", rows), ("cols", cols));
        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = cols, WorkRows = 1, ScalarRows = 1,
            Consts = [1f / cols, eps],
            Compute = k =>
            {
                var e = k.E;
                long v = k.In(0), sq = k.Work(0), r = k.Scalars(0), n = (long)k.R * cols, rowBytes = 4L * cols;
                // Two passes (mean, then the mean of squared deviations): no cancellation of E[x²] − E[x]².
                e.Rows(k.R, rowBytes, () => e.Reduce("rsum", R2(r), R1(v), cols, k.Tmp));
                e.Bin("mul", r, r, k.Const(0), k.R, bcast: true);
                e.Rows(k.R, rowBytes, () => e.Bin("sub", R1(v), R1(v), R2(r), cols, bcast: true));
                e.Bin("mul", sq, v, v, n);
                e.Rows(k.R, rowBytes, () => e.Reduce("rsum", R2(r), R1(sq), cols, k.Tmp));
                InvStd(e, k, r);
                e.Rows(k.R, rowBytes, () =>
                {
                    e.Bin("mul", R1(v), R1(v), R2(r), cols, bcast: true);
                    e.Bin("mul", R1(v), R1(v), k.Vector(0), cols);
                    if (bias >= 0)
                    {
                        e.Bin("add", R1(v), R1(v), k.Vector(1), cols);
                    }
                });
                return v;
            },
        };
        s.Inputs.Add(Dense(pb, x, cols));
        s.Vectors.Add((weight, cols));
        if (bias >= 0)
        {
            s.Vectors.Add((bias, cols));
        }

        Run(pb, s);
    }

    /// <summary>Per-row sums of squares at <paramref name="r"/> → 1/sqrt(sum/cols + eps), over the whole block at once.</summary>
    private static void InvStd(VectorCode e, Block k, long r)
    {
        e.Bin("mul", r, r, k.Const(0), k.R, bcast: true);
        e.Bin("add", r, r, k.Const(1), k.R, bcast: true);
        e.Un("rsqrt", r, r, k.R);
    }

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
