using System.Globalization;
using Tessera.IR;
using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Dialects.Npu;

/// <summary>
/// Checks an <c>npu.program</c> against its target: descriptors numbered in order and within the target's table, DRAM
/// tensors inside DRAM and disjoint unless both are activations whose live steps never meet, steps naming real tensors
/// (activations only while live) and host functions, and per kernel: one <c>npu.end</c>
/// last, balanced loops, semaphores and accumulator rows in range, and the SRAM plan. The SRAM plan holds when every
/// <c>npu.buffer</c> lies inside SRAM, no two buffers whose live ranges meet overlap, and every SRAM byte an
/// instruction touches (<see cref="Footprint"/>, with addresses from running the front end's registers and loops) lies
/// inside a buffer live at that instruction.
/// </summary>
public static class NpuVerifier
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static string? Program(Operation program)
    {
        NpuTarget target;
        try
        {
            target = NpuProgramIR.TargetOf(program);
        }
        catch (DiagnosticException e)
        {
            return e.Diagnostic.Message;
        }

        var descs = new List<DmaDescriptor>();
        var tensors = new Dictionary<string, TensorDecl>(StringComparer.Ordinal);
        var hostFuncs = new HashSet<string>(StringComparer.Ordinal);
        var ops = program.Regions[0].EntryBlock?.Operations.ToList() ?? [];
        foreach (var op in ops)
        {
            switch (op.Name)
            {
                case "npu.desc":
                    if (((IntegerAttr)op.GetAttr("index")!).Value != descs.Count)
                    {
                        return $"npu.desc index {((IntegerAttr)op.GetAttr("index")!).Value}: descriptors must be numbered 0, 1, 2, ... in order (expected {descs.Count})";
                    }

                    var d = NpuProgramIR.ToDesc(op);
                    if (d.Dims.Length != 3 || d.DramStrides.Length != 3 || d.SramStrides.Length != 3 || d.Pad.Length != 4 || d.Dims.Any(x => x is < 1 or > 65535))
                    {
                        return $"npu.desc {descs.Count}: dims must be 3 numbers in [1, 65535], strides 3 numbers, pad 4 numbers";
                    }

                    descs.Add(d);
                    break;
                case "npu.tensor":
                    var t = NpuProgramIR.ToTensor(op);
                    if (!tensors.TryAdd(t.Name, t))
                    {
                        return $"tensor '{t.Name}' is declared twice";
                    }

                    if (t.DramAddress + t.Bytes > target.DramBytes)
                    {
                        return $"tensor '{t.Name}' [0x{t.DramAddress:x}, 0x{t.DramAddress + t.Bytes:x}) is outside target {target.Name}'s {target.DramBytes} bytes of DRAM";
                    }

                    if (op.GetAttr("value") is DenseElementsAttr v && v.Storage.Length != t.Bytes)
                    {
                        return $"tensor '{t.Name}' holds {v.Storage.Length} bytes of data but is {t.Bytes} bytes";
                    }

                    break;
                case "builtin.module":
                    hostFuncs.UnionWith(op.Regions[0].Operations.Where(f => f.Name == "func.func").Select(f => SymbolTable.GetName(f)!));
                    break;
            }
        }

        if (descs.Count > target.DmaDescriptors)
        {
            return $"{descs.Count} descriptors; target {target.Name} has {target.DmaDescriptors}";
        }

        // Activations may share DRAM, but only when the steps they live over never meet.
        var live = ops.Where(o => o.Name == "npu.tensor" && o.GetAttr("live") is ArrayAttr { Elements.Count: 2 })
            .ToDictionary(o => ((StringAttr)o.GetAttr("name")!).Value, o => (First: Int(((ArrayAttr)o.GetAttr("live")!).Elements[0]), Last: Int(((ArrayAttr)o.GetAttr("live")!).Elements[1])), StringComparer.Ordinal);
        var sorted = tensors.Values.Where(t => t.Bytes > 0).OrderBy(t => t.DramAddress).ToList();
        for (int i = 0; i < sorted.Count; i++)
        {
            for (int j = i + 1; j < sorted.Count && sorted[j].DramAddress < sorted[i].DramAddress + sorted[i].Bytes; j++)
            {
                bool apart = live.TryGetValue(sorted[i].Name, out var a) && live.TryGetValue(sorted[j].Name, out var b) && (a.Last < b.First || b.Last < a.First);
                if (!apart)
                {
                    return $"tensors '{sorted[i].Name}' and '{sorted[j].Name}' overlap in DRAM while both are live";
                }
            }
        }

        int ordinal = 0;
        foreach (var op in ops.Where(o => o.Name is "npu.kernel" or "npu.host_step"))
        {
            var name = SymbolTable.GetName(op);
            foreach (var key in new[] { "inputs", "outputs" })
            {
                var names = ((ArrayAttr)op.GetAttr(key)!).Elements.Select(e => ((StringAttr)e).Value).ToList();
                var missing = names.FirstOrDefault(n => !tensors.ContainsKey(n));
                if (missing is not null)
                {
                    return $"step @{name}: {key} names tensor '{missing}', which the program does not declare";
                }

                var dead = names.FirstOrDefault(n => live.TryGetValue(n, out var r) && (ordinal < r.First || ordinal > r.Last));
                if (dead is not null)
                {
                    return $"step @{name} (step {ordinal}) uses activation '{dead}' outside its live range [{live[dead].First}, {live[dead].Last}]";
                }
            }

            ordinal++;

            var error = op.Name == "npu.host_step"
                ? (hostFuncs.Contains(name!) ? null : $"host step @{name} has no function in the nested module @{NpuProgramIR.HostModuleName}")
                : Kernel(op, target, descs);
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private sealed record Buf(string Name, long Offset, long Bytes, int First, int Last);

    private static string? Kernel(Operation kernel, NpuTarget t, List<DmaDescriptor> descs)
    {
        var name = SymbolTable.GetName(kernel);
        var bufs = new List<Buf>();
        var code = new List<Instr>();
        foreach (var op in kernel.Regions[0].Operations)
        {
            if (op.Name == NpuDialect.Buffer.Name)
            {
                bufs.Add(new Buf(((StringAttr)op.GetAttr("name")!).Value, Int(op, "offset"), Int(op, "bytes"), (int)Int(op, "first"), (int)Int(op, "last")));
            }
            else
            {
                code.Add(NpuProgramIR.ToInstr(op));
            }
        }

        string At(int pc) => string.Create(Ci, $"kernel @{name}, instruction {pc} ({code[pc].Op.Mnemonic})");
        if (code.Count == 0 || code[^1].Op.Mnemonic != "end" || code.Take(code.Count - 1).Any(i => i.Op.Mnemonic == "end"))
        {
            return $"kernel @{name} must end with its only npu.end";
        }

        foreach (var b in bufs)
        {
            if (b.Offset + b.Bytes > t.SramBytes)
            {
                return $"kernel @{name}: SRAM buffer '{b.Name}' [0x{b.Offset:x}, 0x{b.Offset + b.Bytes:x}) exceeds target {t.Name}'s {t.SramBytes} bytes";
            }
        }

        for (int i = 0; i < bufs.Count; i++)
        {
            for (int j = i + 1; j < bufs.Count; j++)
            {
                var (x, y) = (bufs[i], bufs[j]);
                if (x.First <= y.Last && y.First <= x.Last && x.Offset < y.Offset + y.Bytes && y.Offset < x.Offset + x.Bytes)
                {
                    return $"kernel @{name}: SRAM buffers '{x.Name}' and '{y.Name}' overlap while both are live";
                }
            }
        }

        // Run the front end: the registers and loops give each dispatched instruction's effective addresses.
        var regs = new long[16];
        var loops = new Stack<(int Start, long Left)>();
        for (int pc = 0; pc < code.Count; pc++)
        {
            var ins = code[pc];
            if (ins.Wait > t.Semaphores || ins.Signal > t.Semaphores)
            {
                return $"{At(pc)}: semaphore {Math.Max(ins.Wait, ins.Signal)} is beyond target {t.Name}'s {t.Semaphores}";
            }

            switch (ins.Op.Mnemonic)
            {
                case "set":
                    Set(regs, ins["rd"], ins["imm"]);
                    continue;
                case "addi":
                    Set(regs, ins["rd"], regs[ins["rs"]] + ins["imm"]);
                    continue;
                case "loop":
                    if (ins["count"] < 1 || loops.Count == 8)
                    {
                        return $"{At(pc)}: a loop needs a count of at least 1 and at most 8 loops nest";
                    }

                    loops.Push((pc + 1, ins["count"]));
                    continue;
                case "endloop":
                    if (loops.Count == 0)
                    {
                        return $"{At(pc)}: endloop without a loop";
                    }

                    var (start, left) = loops.Pop();
                    if (left > 1)
                    {
                        loops.Push((start, left - 1));
                        pc = start - 1;
                    }

                    continue;
                case "sem.post":
                    if (ins["sem"] is 0 || ins["sem"] > t.Semaphores)
                    {
                        return $"{At(pc)}: semaphore {ins["sem"]} is not in [1, {t.Semaphores}]";
                    }

                    continue;
                case "end":
                    if (loops.Count > 0)
                    {
                        return $"{At(pc)}: {loops.Count} loop(s) not closed by endloop";
                    }

                    continue;
            }

            if (ins.Op.Mnemonic is "dma.load" or "dma.store" or "dma.gather" && ins["desc"] >= descs.Count)
            {
                return $"{At(pc)}: descriptor {ins["desc"]} does not exist ({descs.Count} declared)";
            }

            if (AccRows(ins, regs) is { } rows && rows > t.AccumulatorRows)
            {
                return $"{At(pc)}: accumulator rows up to {rows} exceed target {t.Name}'s {t.AccumulatorRows}";
            }

            long Addr(string f) => (regs[ins.Reg(f)] + ins[f]) & 0xFFFF_FFFFL;
            foreach (var (field, lo, len) in Footprint.Sram(ins, Addr, descs))
            {
                if (!bufs.Any(b => b.First <= pc && pc <= b.Last && b.Offset <= lo && lo + len <= b.Offset + b.Bytes))
                {
                    return $"{At(pc)}: {field} touches SRAM [0x{lo:x}, 0x{lo + len:x}), which is not inside a live SRAM buffer of the kernel";
                }
            }
        }

        return null;
    }

    private static long? AccRows(Instr ins, long[] regs) => ins.Op.Mnemonic is "mm.mac" or "mm.drain"
        ? ((regs[ins.Reg("acc")] + ins["acc"]) & 0xFFFF_FFFFL) + ins["m"]
        : null;

    private static void Set(long[] regs, long rd, long value)
    {
        if (rd != 0)
        {
            regs[rd] = value & 0xFFFF_FFFFL;
        }
    }

    private static long Int(Operation op, string name) => op.GetAttr(name) is IntegerAttr i ? i.Value : 0;

    private static long Int(Attribute a) => a is IntegerAttr i ? i.Value : 0;
}
