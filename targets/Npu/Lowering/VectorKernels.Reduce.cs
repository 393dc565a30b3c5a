namespace Tessera.Npu.Lowering;

/// <summary>Reductions over one run of axes.</summary>
public static partial class VectorKernels
{
    private static readonly string[] ReduceOps = ["sum", "mean", "max", "min", "sum_square"];

    /// <summary>
    /// dst[o, i] = op over r of a[o, r, i], a viewed as outer × reduce × inner (dense), dst as outer × inner; op one of
    /// sum mean max min sum_square. Each output element is a row of the row-block pipeline: with inner = 1 the rows
    /// are a's rows; otherwise the load's <c>transpose</c> flag gathers each (o, i)'s reduce elements, inner·2 bytes
    /// apart in DRAM, into one SRAM row, so the vector unit always reduces along a row (<c>v.rsum</c>/<c>v.rmax</c>).
    /// Min is −max(−x) (negation is exact); mean multiplies the sum by the fp32 constant 1/reduce.
    /// </summary>
    public static void Reduce(ProgramBuilder pb, string op, int outer, int reduce, int inner, long a, long dst, string type)
    {
        string title = $"reduce-{op} {outer}x{reduce}x{inner}";
        Check(pb.Target, title, type, ("outer", outer), ("reduce", reduce), ("inner", inner));
        if (!ReduceOps.Contains(op))
        {
            throw Unsupported(pb, $"{title}: no reduction '{op}' (have {string.Join(", ", ReduceOps)})");
        }

        if (inner > 1 && (reduce > MaxN || inner > MaxN))
        {
            throw Unsupported(pb, $"{title}: a reduction over a non-innermost axis needs reduce and inner sizes ≤ {MaxN} (DMA dimensions)");
        }

        long rows = (long)outer * inner;
        if (rows > int.MaxValue)
        {
            throw Unsupported(pb, $"{title}: {rows} output elements are more than one kernel handles");
        }

        ReduceRows(pb, op, title, type, (int)rows, reduce, dst,
            inner == 1 ? Dense(pb, a, reduce) : new Input(reduce, (r0, n, sram) => Gather(pb, reduce, inner, a, r0, n, sram)));
    }

    /// <summary>The reduction's vector work: each of <paramref name="rows"/> rows of <paramref name="reduce"/> elements,
    /// as <paramref name="input"/> loads them, becomes one output element at <paramref name="dst"/>.</summary>
    private static void ReduceRows(ProgramBuilder pb, string op, string title, string type, int rows, int reduce, long dst, Input input)
    {
        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = 1, ScalarRows = 1,
            Consts = [-1f, 1f / reduce],
            Compute = k =>
            {
                var e = k.E;
                long x = k.In(0), r = k.Scalars(0), n = (long)k.R * reduce;
                if (op == "sum_square")
                {
                    e.Bin("mul", x, x, x, n);
                }
                else if (op == "min")
                {
                    e.Bin("mul", x, x, k.Const(0), n, bcast: true);
                }

                string red = op is "max" or "min" ? "rmax" : "rsum";
                e.Rows(k.R, 4L * reduce, () => e.Reduce(red, R2(r), R1(x), reduce, k.Tmp));
                if (op is "min" or "mean")
                {
                    e.Bin("mul", r, r, k.Const(op == "min" ? 0 : 1), k.R, bcast: true);
                }

                return r;
            },
        };
        s.Inputs.Add(input);
        Run(pb, s);
    }

    /// <summary>Loads output rows [r0, r0 + n) of a reduction over a middle axis: row o·inner + i is a[o, :, i], written
    /// densely as n rows of <paramref name="reduce"/>. A leading part group, whole groups of inner rows (one 3-D
    /// transfer per 65535 groups), then a trailing part group.</summary>
    private static IEnumerable<Xfer> Gather(ProgramBuilder pb, int reduce, int inner, long a, int r0, int n, long sram)
    {
        const int e = 2;
        long group = (long)reduce * inner * e, row = (long)reduce * e;
        long r = r0, end = (long)r0 + n;
        while (r < end)
        {
            long o = r / inner, i = r % inner, dram = a + (o * group) + (i * e), at = sram + ((r - r0) * row);
            if (i != 0 || end - r < inner)
            {
                int len = (int)Math.Min(inner - i, end - r);
                yield return new Xfer(pb.Desc(e, 1, reduce, len, 0, (long)inner * e, e, 0, row, e, transpose: true), at, dram);
                r += len;
            }
            else
            {
                int groups = (int)Math.Min(MaxN, (end - r) / inner);
                yield return new Xfer(pb.Desc(e, groups, reduce, inner, group, (long)inner * e, e, (long)inner * row, row, e, transpose: true), at, dram);
                r += (long)groups * inner;
            }
        }
    }
}
