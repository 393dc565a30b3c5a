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
    private readonly Shadow _sramShadow = new("SRAM", 4);
    private readonly Shadow _dramShadow = new("DRAM", 4);
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
        Span<byte> e = stackalloc byte[4];
        Span<byte> pad = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(pad, d.PadValue);
        for (long a = 0; a < d.Dims[0]; a++)
        {
            for (long b = 0; b < (load ? n1 : d.Dims[1]); b++)
            {
                for (long c = 0; c < (load ? n2 : d.Dims[2]); c++)
                {
                    if (!load)
                    {
                        long s = sram + a * d.SramStrides[0] + b * d.SramStrides[1] + c * d.SramStrides[2];
                        long t = dram + a * d.DramStrides[0] + b * d.DramStrides[1] + c * d.DramStrides[2];
                        Touch(Sram, s, eb, write: false);
                        Touch(Dram, t, eb, write: true);
                        Sram.Read(s, e[..eb], _who);
                        Dram.Write(t, e[..eb], _who);
                        continue;
                    }

                    long sb = b - d.Pad[0], sc = c - d.Pad[2];
                    bool inside = sb >= 0 && sb < d.Dims[1] && sc >= 0 && sc < d.Dims[2];
                    if (!inside)
                    {
                        pad[..eb].CopyTo(e);
                    }
                    else if (d.UnpackInt4)
                    {
                        long src = dram + a * d.DramStrides[0] + sb * d.DramStrides[1] + (sc >> 1);
                        Touch(Dram, src, 1, write: false);
                        Dram.Read(src, e[..1], _who);
                        int nib = (sc & 1) == 0 ? e[0] & 15 : e[0] >> 4;
                        e[0] = (byte)(sbyte)((nib << 28) >> 28);
                    }
                    else
                    {
                        long src = dram + a * d.DramStrides[0] + sb * d.DramStrides[1] + sc * d.DramStrides[2];
                        Touch(Dram, src, eb, write: false);
                        Dram.Read(src, e[..eb], _who);
                    }

                    long dst = sram + a * d.SramStrides[0] + (d.Transpose ? c * d.SramStrides[1] + b * d.SramStrides[2] : b * d.SramStrides[1] + c * d.SramStrides[2]);
                    Touch(Sram, dst, eb, write: true);
                    Sram.Write(dst, e[..eb], _who);
                }
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
}
