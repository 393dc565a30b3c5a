using System.Collections.Concurrent;
using Tessera.IR;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;
using Tessera.Npu.Target;

namespace Tessera.Dialects.Npu;

/// <summary>What the first kernel of a layer reports: the MACs its op does, the least DRAM traffic it needs, its element type.</summary>
public sealed record KernelCost(long Macs, long MinDramBytes, string ElementType);

/// <summary>
/// Converts between the <c>npu</c> dialect and what the ISA tools use: <see cref="Build"/> writes a lowered program as
/// an <c>npu.program</c> op, <see cref="ToBundle"/> reads one back as the bundle the simulator runs and
/// <c>tessera compile</c> writes. Both directions keep every instruction, descriptor, tensor, byte and step.
/// </summary>
public static class NpuProgramIR
{
    public const string HostModuleName = "host";

    private static readonly ConcurrentDictionary<string, NpuTarget> Targets = new(StringComparer.Ordinal);

    /// <summary>An <c>npu.program @name</c> holding <paramref name="bundle"/>'s program, data and steps, the SRAM buffers
    /// the kernels allocated, and the host functions (a <c>builtin.module</c>, moved in).</summary>
    public static Operation Build(Context ctx, string name, NpuBundle bundle, IReadOnlyList<SramBuffer> buffers,
        Func<string, KernelCost?> cost, Operation? hostModule, bool builtinTarget, IReadOnlyDictionary<string, (int First, int Last)>? live = null)
    {
        var p = bundle.Program;
        var b = new OpBuilder(ctx);
        var attrs = new List<KeyValuePair<string, Attribute>> { new(SymbolTable.SymNameAttr, new StringAttr(name)), new("target", new StringAttr(bundle.Target.Name)) };
        if (!builtinTarget)
        {
            attrs.Add(new("config", new StringAttr(bundle.Target.Json)));
        }

        var program = b.Create(NpuDialect.Program, new NameLoc(name), [], [], attrs, regions: 1);
        var body = program.Regions[0].AddBlock();
        b.SetInsertionPointToEnd(body);
        for (int i = 0; i < p.Descriptors.Count; i++)
        {
            b.Create(NpuDialect.Desc, Location.Unknown, [], [], DescAttrs(i, p.Descriptors[i]));
        }

        foreach (var t in p.Tensors)
        {
            var ta = new List<KeyValuePair<string, Attribute>>
            {
                new("name", new StringAttr(t.Name)), new("role", new StringAttr(t.Role)), new("dram", I(t.DramAddress)),
                new("shape", Ints(t.Shape)), new("type", new StringAttr(t.Type)),
            };
            if (live is not null && live.TryGetValue(t.Name, out var range))
            {
                ta.Add(new("live", Ints([range.First, range.Last])));
            }

            if (bundle.Data.TryGetValue(t.Name, out var bytes))
            {
                ta.Add(new("value", new DenseElementsAttr(new TensorType([new Dim(bytes.LongLength)], IntegerType.I8), new ArrayStorage(bytes))));
            }

            b.Create(NpuDialect.Tensor, Location.Unknown, [], [], ta);
        }

        var steps = bundle.Steps.Count > 0 ? bundle.Steps : [new BundleStep("npu", "main", [], [], "", "")];
        foreach (var s in steps)
        {
            var sa = new List<KeyValuePair<string, Attribute>>
            {
                new(SymbolTable.SymNameAttr, new StringAttr(s.Name)), new("inputs", Strs(s.Inputs)), new("outputs", Strs(s.Outputs)),
            };
            if (s.Op.Length > 0)
            {
                sa.Add(new("op", new StringAttr(s.Op)));
            }

            if (s.Layer.Length > 0)
            {
                sa.Add(new("layer", new StringAttr(s.Layer)));
            }

            if (s.Kind == "host")
            {
                if (s.Reason is not null)
                {
                    sa.Add(new("reason", new StringAttr(s.Reason)));
                }

                b.Create(NpuDialect.HostStep, Location.Unknown, [], [], sa);
                continue;
            }

            if (cost(s.Name) is { } c)
            {
                sa.Add(new("macs", I(c.Macs)));
                sa.Add(new("min_dram_bytes", I(c.MinDramBytes)));
                sa.Add(new("element_type", new StringAttr(c.ElementType)));
            }

            var kernel = b.Create(NpuDialect.Kernel, Location.Unknown, [], [], sa, regions: 1);
            var kb = new OpBuilder(ctx);
            kb.SetInsertionPointToEnd(kernel.Regions[0].AddBlock());
            foreach (var buf in buffers.Where(x => x.Entry == s.Name))
            {
                kb.Create(NpuDialect.Buffer, Location.Unknown, [], [],
                    [new("name", new StringAttr(buf.Name)), new("offset", I(buf.Offset)), new("bytes", I(buf.Bytes)), new("first", I(buf.First)), new("last", I(buf.Last))]);
            }

            int start = p.Entries.TryGetValue(s.Name, out int at) ? at
                : throw new DiagnosticException(new Diagnostic(Severity.Error, Tessera.Npu.NpuCodes.BundleBad, $"step {s.Name} has no entry point", Location.Unknown));
            for (int pc = start; pc < p.Instrs.Count; pc++)
            {
                var ins = p.Instrs[pc];
                kb.Create(NpuDialect.Instructions[ins.Op.Mnemonic], Location.Unknown, [], [], InstrAttrs(ins));
                if (ins.Op.Mnemonic == "end")
                {
                    break;
                }
            }
        }

        if (hostModule is not null)
        {
            hostModule.SetAttr(SymbolTable.SymNameAttr, new StringAttr(HostModuleName));
            body.Append(hostModule);
        }

        return program;
    }

    /// <summary>The bundle an <c>npu.program</c> stands for (without expected outputs).</summary>
    public static NpuBundle ToBundle(Operation program)
    {
        var target = TargetOf(program);
        var p = new AsmProgram { Target = target.Name };
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var steps = new List<BundleStep>();
        string? host = null;
        foreach (var op in program.Regions[0].EntryBlock!.Operations)
        {
            switch (op.Name)
            {
                case "npu.desc":
                    p.Descriptors.Add(ToDesc(op));
                    break;
                case "npu.tensor":
                    var t = ToTensor(op);
                    p.Tensors.Add(t);
                    switch (op.GetAttr("value"))
                    {
                        case DenseElementsAttr d:
                            // Weights are large: share the attribute's array when it has one rather than copy it.
                            data[t.Name] = d.Storage is ArrayStorage a ? a.Bytes : d.Storage.Slice(0, checked((int)d.Storage.Length)).ToArray();
                            break;
                        case ElidedElementsAttr:
                            throw Bad(op, $"tensor {t.Name}'s bytes were elided when this IR was printed; print it with full constants");
                    }

                    break;
                case "npu.kernel":
                    var name = SymbolTable.GetName(op)!;
                    p.Entries[name] = p.Instrs.Count;
                    p.Instrs.AddRange(op.Regions[0].EntryBlock!.Operations.Where(i => i.Name != NpuDialect.Buffer.Name).Select(ToInstr));
                    steps.Add(new BundleStep("npu", name, Strings(op, "inputs"), Strings(op, "outputs"), Str(op, "op") ?? "", Str(op, "layer") ?? ""));
                    break;
                case "npu.host_step":
                    steps.Add(new BundleStep("host", SymbolTable.GetName(op)!, Strings(op, "inputs"), Strings(op, "outputs"), Str(op, "op") ?? "", Str(op, "layer") ?? "", Str(op, "reason")));
                    break;
                case "builtin.module":
                    host = Printer.PrintOp(op, PrintOptions.Full);
                    break;
            }
        }

        bool single = steps.Count == 1 && steps[0] is { Kind: "npu", Name: "main", Inputs.Length: 0, Outputs.Length: 0 };
        if (!p.Entries.ContainsKey("main"))
        {
            p.Entries["main"] = 0;
        }

        return new NpuBundle { Program = p, Target = target, Data = data, Steps = single ? [] : steps, HostModule = host };
    }

    /// <summary>The kernels that start a layer (those with <c>macs</c>): name, op, layer, MACs and least DRAM bytes.</summary>
    public static IEnumerable<(string Step, string Op, string Layer, string ElementType, long Macs, long MinDramBytes)> Layers(Operation program) =>
        program.Regions[0].EntryBlock!.Operations
            .Where(o => o.Name == NpuDialect.Kernel.Name && o.GetAttr("macs") is IntegerAttr)
            .Select(o => (SymbolTable.GetName(o)!, Str(o, "op") ?? "", Str(o, "layer") ?? "", Str(o, "element_type") ?? "", Int(o, "macs"), Int(o, "min_dram_bytes")));

    public static NpuTarget TargetOf(Operation program)
    {
        if (Str(program, "config") is { } json)
        {
            return TargetLoader.Parse(json, $"npu.program @{SymbolTable.GetName(program)}");
        }

        var name = Str(program, "target") ?? "";
        return Targets.GetOrAdd(name, TargetLoader.LoadNamed);
    }

    public static Instr ToInstr(Operation op)
    {
        var isa = Opcodes.Find(op.Name.StartsWith(NpuDialect.Prefix, StringComparison.Ordinal) ? op.Name[NpuDialect.Prefix.Length..] : op.Name)
            ?? throw Bad(op, $"'{op.Name}' is not an NPU instruction");
        var ins = new Instr(isa) { Wait = (int)Int(op, "wait"), Signal = (int)Int(op, "signal") };
        for (int i = 0; i < isa.Fields.Count; i++)
        {
            var f = isa.Fields[i];
            ins.Values[i] = f.Kind == FieldKind.Enum ? Math.Max(0, Array.IndexOf(f.Names!, Str(op, f.Name) ?? f.Names![0])) : Int(op, f.Name);
            if (f.Kind == FieldKind.Address)
            {
                ins.Regs[i] = (int)Int(op, f.Name + "_reg");
            }
        }

        return ins;
    }

    public static List<KeyValuePair<string, Attribute>> InstrAttrs(Instr ins)
    {
        var a = new List<KeyValuePair<string, Attribute>>();
        for (int i = 0; i < ins.Op.Fields.Count; i++)
        {
            var f = ins.Op.Fields[i];
            if (f.Kind == FieldKind.Enum)
            {
                a.Add(new(f.Name, new StringAttr(f.Names![ins.Values[i]])));
                continue;
            }

            if (ins.Values[i] != 0)
            {
                a.Add(new(f.Name, I(ins.Values[i])));
            }

            if (f.Kind == FieldKind.Address && ins.Regs[i] != 0)
            {
                a.Add(new(f.Name + "_reg", I(ins.Regs[i])));
            }
        }

        if (ins.Wait != 0)
        {
            a.Add(new("wait", I(ins.Wait)));
        }

        if (ins.Signal != 0)
        {
            a.Add(new("signal", I(ins.Signal)));
        }

        return a;
    }

    public static DmaDescriptor ToDesc(Operation op) => new()
    {
        Dims = IntList(op, "dims"), DramStrides = IntList(op, "dram_strides"), SramStrides = IntList(op, "sram_strides"),
        ElemBytes = (int)Int(op, "elem"), Pad = op.GetAttr("pad") is null ? [0, 0, 0, 0] : IntList(op, "pad"), PadValue = (int)Int(op, "pad_value"),
        UnpackInt4 = op.GetAttr("unpack_int4") is not null, Transpose = op.GetAttr("transpose") is not null,
    };

    private static List<KeyValuePair<string, Attribute>> DescAttrs(int index, DmaDescriptor d)
    {
        var a = new List<KeyValuePair<string, Attribute>>
        {
            new("index", I(index)), new("dims", Ints(d.Dims.Select(x => (long)x))), new("dram_strides", Ints(d.DramStrides.Select(x => (long)x))),
            new("sram_strides", Ints(d.SramStrides.Select(x => (long)x))), new("elem", I(d.ElemBytes)),
        };
        if (d.Pad.Any(x => x != 0))
        {
            a.Add(new("pad", Ints(d.Pad.Select(x => (long)x))));
        }

        if (d.PadValue != 0)
        {
            a.Add(new("pad_value", I(d.PadValue)));
        }

        if (d.UnpackInt4)
        {
            a.Add(new("unpack_int4", UnitAttr.Instance));
        }

        if (d.Transpose)
        {
            a.Add(new("transpose", UnitAttr.Instance));
        }

        return a;
    }

    public static TensorDecl ToTensor(Operation op) =>
        new(Str(op, "name") ?? "", Str(op, "role") ?? "", Int(op, "dram"), [.. IntList(op, "shape").Select(x => (long)x)], Str(op, "type") ?? "");

    private static IntegerAttr I(long v) => new(v, IntegerType.I64);
    private static ArrayAttr Ints(IEnumerable<long> v) => new([.. v.Select(x => (Attribute)I(x))]);
    private static ArrayAttr Strs(IEnumerable<string> v) => new([.. v.Select(x => (Attribute)new StringAttr(x))]);
    private static long Int(Operation op, string name) => op.GetAttr(name) is IntegerAttr i ? i.Value : 0;
    private static string? Str(Operation op, string name) => (op.GetAttr(name) as StringAttr)?.Value;
    private static int[] IntList(Operation op, string name) => op.GetAttr(name) is ArrayAttr a ? [.. a.Elements.Select(e => checked((int)((IntegerAttr)e).Value))] : [];
    private static string[] Strings(Operation op, string name) => op.GetAttr(name) is ArrayAttr a ? [.. a.Elements.Select(e => ((StringAttr)e).Value)] : [];

    private static DiagnosticException Bad(Operation op, string message) =>
        new(new Diagnostic(Severity.Error, Tessera.Npu.NpuCodes.BundleBad, message, op.Location));
}
