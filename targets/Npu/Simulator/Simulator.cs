using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Npu.Simulator;

/// <summary>One instruction's time on its queue, for the trace.</summary>
public readonly record struct TraceEvent(int Queue, int Pc, string Name, long Start, long Cycles);

/// <summary>What a run produced: total cycles, busy cycles per queue, DRAM traffic, MACs and (if asked) the trace.</summary>
public sealed record SimResult(long Cycles, long[] Busy, int[] Instructions, long DramRead, long DramWritten, long Macs, List<TraceEvent>? Trace)
{
    public double Utilisation(int queue) => Cycles == 0 ? 0 : (double)Busy[queue] / Cycles;
}

/// <summary>The command processor and the four queues. The front end runs set/addi/loop/sem.post at dispatch, in zero cycles,
/// and hands every other instruction to its queue. Each queue runs its instructions in order, one at a time; an instruction
/// starts when its queue is free and, if it waits, a token of its semaphore exists (it takes the earliest); it signals at its end.
/// Among queues whose next instruction can start, the earliest start goes first (ties: load, matrix, vector, store), which
/// makes the schedule exactly the one the rules above define. Effects happen at the start, in that order.</summary>
public sealed class Simulator
{
    private const int Queues = 4;
    private readonly NpuTarget _t;
    private readonly IReadOnlyList<Instr> _prog;
    private readonly uint[] _regs = new uint[16];
    private readonly Stack<(int Start, long Left)> _loops = new();
    private readonly Queue<Issued>[] _pending = [new(), new(), new(), new()];
    private readonly List<(long Time, int[] Clock)>[] _tokens;
    private int _pc;
    private bool _ended;

    public Machine Machine { get; }

    public Simulator(NpuTarget target, IReadOnlyList<Instr> program, IReadOnlyList<DmaDescriptor> descriptors, int entry = 0, Memory? dram = null)
    {
        _t = target;
        _prog = program;
        _pc = entry;
        Machine = new Machine(target, descriptors, dram) { Describe = pc => Disassembler.Format(program[pc]) };
        _tokens = new List<(long, int[])>[target.Semaphores + 1];
        for (int i = 0; i < _tokens.Length; i++)
        {
            _tokens[i] = [];
        }
    }

    private DiagnosticException Bad(int pc, string message) => NpuCodes.Error(NpuCodes.SimBadOperand, $"pc {pc}", message);

    /// <summary>Runs the front end until it hands one instruction to a queue or ends.</summary>
    private void StepFront()
    {
        while (!_ended)
        {
            if (_pc < 0 || _pc >= _prog.Count)
            {
                throw Bad(_pc, "ran off the end of the program without reaching end");
            }

            int pc = _pc++;
            var ins = _prog[pc];
            foreach (var s in new[] { ins.Wait, ins.Signal })
            {
                if (s > _t.Semaphores)
                {
                    throw Bad(pc, $"semaphore {s} does not exist (the target has {_t.Semaphores})");
                }
            }

            switch (ins.Op.Mnemonic)
            {
                case "end": _ended = true; return;
                case "set": _regs[ins["rd"]] = (uint)ins["imm"]; break;
                case "addi": _regs[ins["rd"]] = unchecked(_regs[ins["rs"]] + (uint)ins["imm"]); break;
                case "loop":
                    if (ins["count"] == 0 || _loops.Count == 8)
                    {
                        throw Bad(pc, ins["count"] == 0 ? "loop count must be at least 1" : "loops nest deeper than 8");
                    }

                    _loops.Push((_pc, ins["count"]));
                    break;
                case "endloop":
                    var (start, left) = _loops.Pop();
                    if (left > 1)
                    {
                        _loops.Push((start, left - 1));
                        _pc = start;
                    }

                    break;
                case "sem.post":
                    for (int i = 0; i < ins["count"]; i++)
                    {
                        _tokens[ins["sem"]].Add((0, new int[Queues]));
                    }

                    break;
                default:
                    var ops = new long[ins.Op.Fields.Count];
                    for (int i = 0; i < ops.Length; i++)
                    {
                        ops[i] = ins.Op.Fields[i].Kind == FieldKind.Address ? _regs[ins.Regs[i]] + ins.Values[i] : ins.Values[i];
                    }

                    _regs[0] = 0;
                    _pending[(int)ins.Op.Queue].Enqueue(new Issued(ins, pc, ops));
                    return;
            }

            _regs[0] = 0;
        }
    }

    /// <summary>The cycles an instruction occupies its queue (docs/npu/isa.md § Timing).</summary>
    public long Cycles(Issued x) => x.Ins.Op.Mnemonic switch
    {
        "dma.load" or "dma.store" or "dma.gather" => _t.DmaCycles(Machine.Descriptor(x).DramBytes),
        "mm.ldw" => x["k"] * _t.WeightLoadCyclesPerRow,
        "mm.mac" => x["m"] * (x["type"] == 0 ? 1 : _t.FloatRateDivisor) + _t.MatrixRows + _t.MatrixCols - 2,
        "mm.drain" => x["m"] * _t.DrainCyclesPerRow,
        "mm.qcfg" or "v.qcfg" => 1,
        "v.exp" or "v.rsqrt" or "v.recip" or "v.silu" or "v.gelu" => _t.VectorStartupCycles + Chunks(x) * _t.VectorTranscendentalOpCycles,
        "v.rsum" or "v.rmax" => _t.VectorStartupCycles + Chunks(x) * _t.VectorSimpleOpCycles + Log2(_t.VectorLanes),
        _ => _t.VectorStartupCycles + Chunks(x) * _t.VectorSimpleOpCycles,
    };

    private long Chunks(Issued x) => (x["n"] + _t.VectorLanes - 1) / _t.VectorLanes;
    private static int Log2(int v) => 31 - int.LeadingZeroCount(v);

    public SimResult Run(bool trace = false)
    {
        var free = new long[Queues];
        var busy = new long[Queues];
        var count = new int[Queues];
        var clocks = new int[Queues][];
        for (int q = 0; q < Queues; q++)
        {
            clocks[q] = new int[Queues];
        }

        var events = trace ? new List<TraceEvent>() : null;
        long end = 0;
        while (true)
        {
            int best = -1, bestToken = -1;
            long bestStart = long.MaxValue;
            bool any = false;
            for (int q = 0; q < Queues; q++)
            {
                while (_pending[q].Count == 0 && !_ended)
                {
                    StepFront();
                }

                if (_pending[q].Count == 0)
                {
                    continue;
                }

                any = true;
                var head = _pending[q].Peek();
                long start = free[q];
                int token = -1;
                if (head.Ins.Wait != 0)
                {
                    var toks = _tokens[head.Ins.Wait];
                    for (int i = 0; i < toks.Count; i++)
                    {
                        if (token < 0 || toks[i].Time < toks[token].Time)
                        {
                            token = i;
                        }
                    }

                    if (token < 0)
                    {
                        continue;
                    }

                    start = Math.Max(start, toks[token].Time);
                }

                if (start < bestStart)
                {
                    (best, bestStart, bestToken) = (q, start, token);
                }
            }

            if (!any)
            {
                break;
            }

            if (best < 0)
            {
                var stuck = Enumerable.Range(0, Queues).Where(q => _pending[q].Count > 0).Select(q => _pending[q].Peek())
                    .Select(x => $"`{Disassembler.Format(x.Ins)}` (pc {x.Pc}) waits on semaphore {x.Ins.Wait}");
                throw NpuCodes.Error(NpuCodes.SimDeadlock, "", "deadlock: " + string.Join("; ", stuck) + ", and nothing left can signal it");
            }

            var x = _pending[best].Dequeue();
            var clock = clocks[best];
            if (bestToken >= 0)
            {
                var tok = _tokens[x.Ins.Wait][bestToken];
                _tokens[x.Ins.Wait].RemoveAt(bestToken);
                for (int i = 0; i < Queues; i++)
                {
                    clock[i] = Math.Max(clock[i], tok.Clock[i]);
                }
            }

            clock[best]++;
            Machine.Execute(x, best, clock[best], clock);
            long dur = Cycles(x);
            free[best] = bestStart + dur;
            busy[best] += dur;
            count[best]++;
            end = Math.Max(end, free[best]);
            if (x.Ins.Signal != 0)
            {
                _tokens[x.Ins.Signal].Add((free[best], (int[])clock.Clone()));
            }

            events?.Add(new TraceEvent(best, x.Pc, x.Ins.Op.Mnemonic, bestStart, dur));
        }

        return new SimResult(end, busy, count, Machine.DramRead, Machine.DramWritten, Machine.Macs, events);
    }
}
