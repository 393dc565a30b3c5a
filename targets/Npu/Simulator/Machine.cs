using System.Buffers.Binary;
using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Npu.Simulator;

/// <summary>An instruction as dispatched to its queue: address fields resolved (base register + offset).</summary>
public sealed record Issued(Instr Ins, int Pc, long[] Operands)
{
    public long this[string field] => Operands[Ins.Op.FieldIndex(field)];
}

/// <summary>The machine state and the functional (bit-exact) semantics of every queued instruction, with the accesses each makes
/// reported to the hazard checker.</summary>
public sealed partial class Machine
{
    private readonly NpuTarget _t;
    private readonly IReadOnlyList<DmaDescriptor> _descs;
    private readonly int[] _acc;
    private readonly Shadow _sramShadow = new();
    private readonly Shadow _dramShadow = new();
    private int[] _weightsI = [];
    private float[] _weightsF = [];
    private int _wk, _wn, _wtype = -1;
    private readonly (int Mult, int Shift, int ZpIn, int ZpOut)[] _qcfg = new (int, int, int, int)[4];

    public Memory Sram { get; }
    public Memory Dram { get; }
    public long DramRead { get; private set; }
    public long DramWritten { get; private set; }
    public long Macs { get; private set; }
    public bool CheckHazards { get; set; } = true;

    /// <summary>False: timing only. Every instruction is still decoded, bounds- and hazard-checked and timed, but no data
    /// moves and nothing is computed (cycle counts never depend on values), so memories and outputs stay as they were.</summary>
    public bool Functional { get; set; } = true;

    internal List<Exec> Execs { get; } = [new Exec(-1, -1, 0)];
    internal Func<int, string> Describe { get; set; } = pc => $"pc {pc}";

    /// <param name="dram">DRAM to use (a compiled model's steps share one); null for a fresh, zero DRAM.</param>
    public Machine(NpuTarget target, IReadOnlyList<DmaDescriptor> descriptors, Memory? dram = null)
    {
        _t = target;
        _descs = descriptors;
        Sram = new Memory("SRAM", target.SramBytes);
        Dram = dram ?? new Memory("DRAM", target.DramBytes);
        _acc = new int[target.AccumulatorRows * target.MatrixCols];
        _qcfg[1] = _qcfg[2] = (1, 0, 0, 0);
    }

    private int _id, _queue;
    private int[] _clock = [];
    private string _who = "";

    private DiagnosticException Bad(string message) => NpuCodes.Error(NpuCodes.SimBadOperand, _who, message);

    private void Touch(Memory m, long addr, long len, bool write)
    {
        m.Check(addr, len, _who);
        if (!CheckHazards)
        {
            return;
        }

        var shadow = ReferenceEquals(m, Sram) ? _sramShadow : _dramShadow;
        int other = shadow.Access(addr, len, write, _id, _queue, _clock, Execs, out long at);
        if (other != 0)
        {
            var o = Execs[other];
            var me = Execs[_id];
            throw NpuCodes.Error(NpuCodes.SimHazard, _who,
                $"hazard: `{Describe(me.Pc)}` (pc {me.Pc}, {QueueName(me.Queue)} queue) {(write ? "writes" : "reads")} {m.Name} 0x{at:x} " +
                $"that `{Describe(o.Pc)}` (pc {o.Pc}, {QueueName(o.Queue)} queue) also accesses, with no semaphore ordering them");
        }
    }

    public static string QueueName(int q) => ((Queue)q).ToString().ToLowerInvariant();

    /// <summary>Runs one instruction's effects. <paramref name="clock"/> is its queue's vector clock, already merged with any wait.</summary>
    public void Execute(Issued x, int queue, int seq, int[] clock)
    {
        Execs.Add(new Exec(x.Pc, queue, seq));
        _id = Execs.Count - 1;
        _queue = queue;
        _clock = clock;
        _who = $"pc {x.Pc} ({x.Ins.Op.Mnemonic})";
        switch (x.Ins.Op.Mnemonic)
        {
            case "dma.load": Dma(x, load: true); break;
            case "dma.store": Dma(x, load: false); break;
            case "dma.gather": Gather(x); break;
            case "mm.ldw": LoadWeights(x); break;
            case "mm.mac": Mac(x); break;
            case "mm.drain": Drain(x); break;
            case "mm.qcfg": case "v.qcfg":
                _qcfg[queue] = ((int)x["mult"], (int)x["shift"], (int)x["zp_in"], (int)x["zp_out"]);
                break;
            default: Vector(x); break;
        }
    }

    public DmaDescriptor Descriptor(Issued x)
    {
        long i = x["desc"];
        return i < _descs.Count ? _descs[(int)i] : throw NpuCodes.Error(NpuCodes.SimBadOperand, $"pc {x.Pc}", $"descriptor {i} does not exist (dma.bin has {_descs.Count})");
    }

    private void Dma(Issued x, bool load)
    {
        var d = Descriptor(x);
        long sram = x["sram"], dram = x["dram"];
        int eb = d.ElemBytes;
        if (!load && (d.UnpackInt4 || d.Transpose || d.Pad.Any(p => p != 0)))
        {
            throw Bad("dma.store descriptors may not pad, unpack or transpose");
        }

        int n1 = d.Pad[0] + d.Dims[1] + d.Pad[1], n2 = d.Pad[2] + d.Dims[2] + d.Pad[3];
        long ss1 = d.Transpose ? d.SramStrides[2] : d.SramStrides[1], ss2 = d.Transpose ? d.SramStrides[1] : d.SramStrides[2];
        for (long a = 0; a < d.Dims[0]; a++)
        {
            // Row b, element c: SRAM sramA + b·ss1 + c·ss2; DRAM (inside the padding) dramA + (b - pad)·ds1 + (c - pad)·ds2.
            long sramA = sram + a * d.SramStrides[0], dramA = dram + a * d.DramStrides[0];
            if (load)
            {
                TouchBlock(Dram, dramA, d.Dims[1], d.DramStrides[1], d.UnpackInt4 ? (d.Dims[2] + 1) / 2 : d.Dims[2],
                    d.UnpackInt4 ? 1 : d.DramStrides[2], d.UnpackInt4 ? 1 : eb, write: false);
                TouchBlock(Sram, sramA, n1, ss1, n2, ss2, eb, write: true);
            }
            else
            {
                TouchBlock(Sram, sramA, d.Dims[1], ss1, d.Dims[2], ss2, eb, write: false);
                TouchBlock(Dram, dramA, d.Dims[1], d.DramStrides[1], d.Dims[2], d.DramStrides[2], eb, write: true);
            }

            for (long b = 0; Functional && b < (load ? n1 : d.Dims[1]); b++)
            {
                long sb = load ? b - d.Pad[0] : b;
                MoveRow(d, load, sb >= 0 && sb < d.Dims[1], sramA + b * ss1, ss2, dramA + sb * d.DramStrides[1], load ? n2 : d.Dims[2]);
            }
        }

        if (load)
        {
            DramRead += d.DramBytes;
        }
        else
        {
            DramWritten += d.DramBytes;
        }
    }

    /// <summary>Hazard-checks the elements at <paramref name="start"/> + i·<paramref name="s1"/> + j·<paramref name="s2"/>
    /// (i &lt; n1, j &lt; n2) with as few accesses as cover the same bytes: one for a contiguous block, one per contiguous
    /// row or column, else one per element. Which bytes are touched is what matters: the same instruction never conflicts
    /// with itself.</summary>
    private void TouchBlock(Memory m, long start, long n1, long s1, long n2, long s2, int eb, bool write)
    {
        if (n1 <= 0 || n2 <= 0)
        {
            return;
        }

        if (s1 == eb && s2 != eb)
        {
            (n1, s1, n2, s2) = (n2, s2, n1, s1);
        }

        if (s2 == eb && (s1 == n2 * eb || n1 == 1))
        {
            Touch(m, start, n1 * n2 * eb, write);
            return;
        }

        for (long i = 0; i < n1; i++)
        {
            if (s2 == eb)
            {
                Touch(m, start + i * s1, n2 * eb, write);
                continue;
            }

            for (long j = 0; j < n2; j++)
            {
                Touch(m, start + i * s1 + j * s2, eb, write);
            }
        }
    }

    /// <summary>dma.gather: row r of the result (dims[1] rows of dims[2] elements, SRAM sram + r·ss1 + c·ss2) is table row
    /// idx[r] (DRAM dram + idx[r]·ds1 + c·ds2), idx[r] the int64 at SRAM idx + 8r; pad_value is the table's row count and
    /// an index outside [0, pad_value) stops the run. Timing-only runs move no data, so every index reads as 0.</summary>
    private void Gather(Issued x)
    {
        var d = Descriptor(x);
        if (d.UnpackInt4 || d.Transpose || d.Pad.Any(p => p != 0) || d.Dims[0] != 1 || d.PadValue < 1)
        {
            throw Bad("dma.gather descriptors have dims[0] = 1, no padding, unpacking or transpose, and pad_value = the table's rows (>= 1)");
        }

        long sram = x["sram"], dram = x["dram"], idx = x["idx"];
        int eb = d.ElemBytes, rows = d.Dims[1];
        Touch(Sram, idx, 8L * rows, write: false);
        var ids = Functional ? Sram.Read(idx, 8 * rows, _who) : new byte[8 * rows];
        for (int r = 0; r < rows; r++)
        {
            long id = BinaryPrimitives.ReadInt64LittleEndian(ids.AsSpan(8 * r));
            if (id < 0 || id >= d.PadValue)
            {
                throw Bad($"dma.gather: index {id} (row {r}) is outside the table's {d.PadValue} rows");
            }

            long dramRow = dram + (id * d.DramStrides[1]), sramRow = sram + (r * d.SramStrides[1]);
            TouchBlock(Dram, dramRow, 1, 0, d.Dims[2], d.DramStrides[2], eb, write: false);
            TouchBlock(Sram, sramRow, 1, 0, d.Dims[2], d.SramStrides[2], eb, write: true);
            if (Functional)
            {
                MoveRow(d with { PadValue = 0 }, load: true, inside: true, sramRow, d.SramStrides[2], dramRow, d.Dims[2]);
            }
        }

        DramRead += d.DramBytes;
    }

    /// <summary>Moves the data of one row (already hazard-checked); a contiguous row without padding is one copy.</summary>
    private void MoveRow(DmaDescriptor d, bool load, bool inside, long sramRow, long ss2, long dramRow, long count)
    {
        int eb = d.ElemBytes;
        long ds2 = d.DramStrides[2];
        if (inside && !d.UnpackInt4 && d.Pad[2] == 0 && d.Pad[3] == 0 && ss2 == eb && ds2 == eb)
        {
            var row = new byte[count * eb];
            if (load)
            {
                Dram.Read(dramRow, row, _who);
                Sram.Write(sramRow, row, _who);
            }
            else
            {
                Sram.Read(sramRow, row, _who);
                Dram.Write(dramRow, row, _who);
            }

            return;
        }

        Span<byte> e = stackalloc byte[4];
        Span<byte> pad = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(pad, d.PadValue);
        for (long c = 0; c < count; c++)
        {
            long s = sramRow + c * ss2;
            if (!load)
            {
                Sram.Read(s, e[..eb], _who);
                Dram.Write(dramRow + c * ds2, e[..eb], _who);
                continue;
            }

            long sc = c - d.Pad[2];
            if (!inside || sc < 0 || sc >= d.Dims[2])
            {
                pad[..eb].CopyTo(e);
            }
            else if (d.UnpackInt4)
            {
                Dram.Read(dramRow + (sc >> 1), e[..1], _who);
                int nib = (sc & 1) == 0 ? e[0] & 15 : e[0] >> 4;
                e[0] = (byte)(sbyte)((nib << 28) >> 28);
            }
            else
            {
                Dram.Read(dramRow + sc * ds2, e[..eb], _who);
            }

            Sram.Write(s, e[..eb], _who);
        }
    }
}

