using System.Globalization;

namespace Tessera.Npu.Lowering;

/// <summary>An SRAM address for a vector instruction: an offset, or a register plus an offset (inside a row loop).</summary>
public readonly record struct VAddr(int Reg, long Off)
{
    public static implicit operator VAddr(long off) => new(0, off);
    public static VAddr operator +(VAddr a, long d) => new(a.Reg, a.Off + d);

    /// <summary>r1 + <paramref name="off"/>: r1 steps by a row in <see cref="VectorCode.Rows"/>.</summary>
    public static VAddr R1(long off) => new(1, off);

    /// <summary>r2 + <paramref name="off"/>: r2 steps by one fp32 scalar in <see cref="VectorCode.Rows"/>.</summary>
    public static VAddr R2(long off) => new(2, off);

    public override string ToString() => Reg == 0 ? string.Create(CultureInfo.InvariantCulture, $"0x{Off:x}") : string.Create(CultureInfo.InvariantCulture, $"r{Reg}+0x{Off:x}");
}

/// <summary>Vector-unit instructions on fp32 data in SRAM, written into a <see cref="ProgramBuilder"/>; every instruction
/// is split into pieces of at most <see cref="MaxN"/> elements (its <c>n</c> is a u16).</summary>
public sealed class VectorCode(ProgramBuilder pb)
{
    /// <summary>The widest <c>n</c> of a vector instruction (u16), also the largest DMA dimension.</summary>
    public const int MaxN = 65535;

    /// <summary>At most this many copies of a broadcast row: more cost SRAM and save only an instruction's startup, already
    /// under a cycle per row at 8.</summary>
    public const int MaxRowCopies = 8;

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    private List<string>? _sink;

    public ProgramBuilder Pb { get; } = pb;

    /// <summary>The lines <paramref name="emit"/> writes, collected instead of written (to place tokens on them first).</summary>
    public List<string> Collect(Action emit)
    {
        var outer = _sink;
        _sink = [];
        try
        {
            emit();
            return _sink;
        }
        finally
        {
            _sink = outer;
        }
    }

    private void Put(string line)
    {
        if (_sink is not null)
        {
            _sink.Add(line);
        }
        else
        {
            Pb.Line(line);
        }
    }

    /// <summary>How many consecutive copies of a row of <paramref name="cols"/> fp32 elements let one instruction apply
    /// it to that many rows of a <paramref name="rows"/>-row operand (each instruction paying one startup instead of one
    /// per row): at most <see cref="MaxRowCopies"/>, the rows, and what one instruction's <c>n</c> spans.</summary>
    public static int RowCopies(long rows, long cols) => (int)Math.Max(1, Math.Min(Math.Min(rows, MaxRowCopies), MaxN / Math.Max(1, cols)));

    /// <summary>Fills rows 1 … <paramref name="copies"/> − 1 after the row of <paramref name="cols"/> fp32 elements at
    /// <paramref name="row"/> with copies of it, doubling what is there with each <c>v.copy</c>.</summary>
    public void ReplicateRow(long row, long cols, int copies)
    {
        for (int r = 1; r < copies; r *= 2)
        {
            Un("copy", row + (4L * r * cols), row, (long)Math.Min(r, copies - r) * cols);
        }
    }

    /// <summary>Writes <paramref name="lines"/>, with <paramref name="wait"/> on the first and <paramref name="signal"/> on the last.</summary>
    public void Synced(List<string> lines, int wait, int signal)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            Put(lines[i] + ProgramBuilder.Sync(i == 0 ? wait : 0, i == lines.Count - 1 ? signal : 0));
        }
    }

    /// <summary>The <c>v.cvt</c> pieces converting <paramref name="n"/> elements (not yet written).</summary>
    public static IEnumerable<string> CvtLines(VAddr dst, VAddr a, long n, string from, string to)
    {
        int fb = from == "f32" ? 4 : 2, tb = to == "f32" ? 4 : 2;
        for (long o = 0; o < n; o += MaxN)
        {
            yield return string.Create(Ci, $"v.cvt dst={dst + (o * tb)} a={a + (o * fb)} n={Math.Min(MaxN, n - o)} from={from} to={to}");
        }
    }

    /// <summary>dst = a op b on fp32; with <paramref name="bcast"/>, b is one element.</summary>
    public void Bin(string op, VAddr dst, VAddr a, VAddr b, long n, bool bcast = false)
    {
        for (long o = 0; o < n; o += MaxN)
        {
            Put(string.Create(Ci, $"v.{op} dst={dst + (4 * o)} a={a + (4 * o)} b={(bcast ? b : b + (4 * o))} n={Math.Min(MaxN, n - o)}{(bcast ? " bcast=1" : "")}"));
        }
    }

    public void Un(string op, VAddr dst, VAddr a, long n)
    {
        for (long o = 0; o < n; o += MaxN)
        {
            Put(string.Create(Ci, $"v.{op} dst={dst + (4 * o)} a={a + (4 * o)} n={Math.Min(MaxN, n - o)}"));
        }
    }

    /// <summary>dst = rsum or rmax of n elements; pieces beyond the first are reduced into <paramref name="tmp"/> and combined.</summary>
    public void Reduce(string op, VAddr dst, VAddr a, long n, VAddr tmp)
    {
        for (long o = 0; o < n; o += MaxN)
        {
            Put(string.Create(Ci, $"v.{op} dst={(o == 0 ? dst : tmp)} a={a + (4 * o)} n={Math.Min(MaxN, n - o)}"));
            if (o > 0)
            {
                Bin(op == "rsum" ? "add" : "max", dst, dst, tmp, 1);
            }
        }
    }

    /// <summary>A loop over <paramref name="count"/> rows: r1 steps by <paramref name="rowBytes"/> (an fp32 row), r2 by 4 (a scalar).</summary>
    public void Rows(int count, long rowBytes, Action body)
    {
        Put("set rd=r1 imm=0");
        Put("set rd=r2 imm=0");
        Put(string.Create(Ci, $"loop count={count}"));
        body();
        Put(string.Create(Ci, $"addi rd=r1 rs=r1 imm={rowBytes}"));
        Put("addi rd=r2 rs=r2 imm=4");
        Put("endloop");
    }
}
