using Tessera.IR;
using Tessera.Npu.Isa;
using IsaOp = Tessera.Npu.Isa.OpDef;
using OpDef = Tessera.IR.OpDef;

namespace Tessera.Dialects.Npu;

/// <summary>
/// The <c>npu</c> dialect: a compiled program one op per instruction, as <c>npu-lower</c> produces it and the bundle
/// writer encodes it. <c>npu.program</c> holds the DMA descriptors (<c>npu.desc</c>), the DRAM memory map
/// (<c>npu.tensor</c>, weights with their bytes), the steps in run order (<c>npu.kernel</c>: SRAM buffers and
/// instructions; <c>npu.host_step</c>: a function of the nested <c>builtin.module @host</c>), nothing else.
/// The instruction ops are generated from the ISA table (<see cref="Opcodes.All"/>): <c>npu.MNEMONIC</c> with one integer
/// attribute per field (a name for enum fields, <c>FIELD_reg</c> for an address's base register), and <c>wait</c>/<c>signal</c>;
/// a field left out is 0, as in assembly.
/// </summary>
public sealed class NpuDialect : Dialect
{
    public override string Name => "npu";

    public const string Prefix = "npu.";

    private static readonly AttrConstraint Ints = new("array of integers", a => a is ArrayAttr arr && arr.Elements.All(e => e is IntegerAttr));
    private static readonly AttrConstraint Strings = new("array of strings", a => a is ArrayAttr arr && arr.Elements.All(e => e is StringAttr));

    public static readonly OpDef Program = OpDef.Define("npu.program", "a compiled NPU program: descriptors, memory map, steps")
        .Attr(SymbolTable.SymNameAttr, AC.String)
        .Attr("target", AC.String)
        .With(OpTraits.IsolatedFromAbove | OpTraits.SymbolTable | OpTraits.NoTerminator | OpTraits.SingleBlock)
        .Regions(1)
        .Verify(NpuVerifier.Program)
        .CustomSyntax(new RegionSyntax());

    public static readonly OpDef Desc = OpDef.Define("npu.desc", "DMA descriptor number `index` (docs/npu/isa.md § DMA)")
        .Attr("index", Range(0, (1 << 12) - 1))
        .Attr("dims", Ints).Attr("dram_strides", Ints).Attr("sram_strides", Ints)
        .Attr("elem", Range(1, 4))
        .OptionalAttr("pad", Ints).OptionalAttr("pad_value", AC.Int)
        .OptionalAttr("unpack_int4", AC.Unit).OptionalAttr("transpose", AC.Unit)
        .HasParent("npu.program")
        .CustomSyntax(new InstrSyntax());

    public static readonly OpDef Tensor = OpDef.Define("npu.tensor", "a named DRAM buffer of the memory map; weights carry their bytes, activations the steps they live over")
        .Attr("name", AC.String)
        .Attr("role", AC.OneOf(TensorDecl.Roles))
        .Attr("dram", Range(0, uint.MaxValue))
        .Attr("shape", Ints)
        .Attr("type", AC.OneOf(TensorDecl.Types))
        .OptionalAttr("value", AC.Dense)
        .OptionalAttr("live", Ints)
        .HasParent("npu.program")
        .CustomSyntax(new InstrSyntax());

    public static readonly OpDef Kernel = OpDef.Define("npu.kernel", "an NPU step: an entry point whose instructions run to npu.end")
        .Attr(SymbolTable.SymNameAttr, AC.String)
        .Attr("inputs", Strings).Attr("outputs", Strings)
        .OptionalAttr("op", AC.String).OptionalAttr("layer", AC.String)
        .OptionalAttr("macs", AC.Int).OptionalAttr("min_dram_bytes", AC.Int).OptionalAttr("element_type", AC.String)
        .With(OpTraits.Symbol | OpTraits.NoTerminator | OpTraits.SingleBlock)
        .Regions(1)
        .HasParent("npu.program")
        .CustomSyntax(new RegionSyntax());

    public static readonly OpDef Buffer = OpDef.Define("npu.buffer", "an SRAM buffer of its kernel, live over instructions [first, last]")
        .Attr("name", AC.String)
        .Attr("offset", Range(0, (1L << Opcodes.SramAddrBits) - 1))
        .Attr("bytes", Range(1, 1L << Opcodes.SramAddrBits))
        .Attr("first", Range(0, int.MaxValue)).Attr("last", Range(-1, int.MaxValue))
        .HasParent("npu.kernel")
        .CustomSyntax(new InstrSyntax());

    public static readonly OpDef HostStep = OpDef.Define("npu.host_step", "a step the host runs: function @NAME of the nested module @host")
        .Attr(SymbolTable.SymNameAttr, AC.String)
        .Attr("inputs", Strings).Attr("outputs", Strings)
        .OptionalAttr("op", AC.String).OptionalAttr("layer", AC.String).OptionalAttr("reason", AC.String)
        .With(OpTraits.Symbol)
        .HasParent("npu.program")
        .CustomSyntax(new RegionSyntax());

    /// <summary>One op per instruction of the ISA, keyed by mnemonic.</summary>
    public static readonly IReadOnlyDictionary<string, OpDef> Instructions = Opcodes.All.ToDictionary(o => o.Mnemonic, Instruction, StringComparer.Ordinal);

    public override IEnumerable<OpDef> Ops => new[] { Program, Desc, Tensor, Kernel, Buffer, HostStep }.Concat(Opcodes.All.Select(o => Instructions[o.Mnemonic]));

    public static AttrConstraint Range(long min, long max) => new($"integer in [{min}, {max}]", a => a is IntegerAttr i && i.Value >= min && i.Value <= max);

    private static OpDef Instruction(IsaOp isa)
    {
        var def = OpDef.Define(Prefix + isa.Mnemonic, isa.Summary);
        foreach (var f in isa.Fields)
        {
            def = f.Kind switch
            {
                FieldKind.Enum => def.OptionalAttr(f.Name, AC.OneOf(f.Names!)),
                FieldKind.Address => def.OptionalAttr(f.Name, Range(f.Min, f.Max)).OptionalAttr(f.Name + "_reg", Range(0, 15)),
                _ => def.OptionalAttr(f.Name, Range(f.Min, f.Max)),
            };
        }

        return def.OptionalAttr("wait", Range(0, 31)).OptionalAttr("signal", Range(0, 31))
            .HasParent("npu.kernel")
            .CustomSyntax(new InstrSyntax());
    }

    /// <summary><c>npu.OP {attributes}</c>: the name and the attribute dictionary, nothing else.</summary>
    private sealed class InstrSyntax : IOpSyntax
    {
        public void Print(Operation op, Printer p)
        {
            p.Write(op.Name);
            p.PrintOptionalAttrDict(op);
        }

        public Operation Parse(OpParser parser, string name, Location location)
        {
            var s = new OperationState(name, location);
            if (parser.Peek().Is("{"))
            {
                s.Attributes.AddRange(parser.ParseAttrDict());
            }

            return Operation.Create(parser.Context, s);
        }
    }

    /// <summary><c>npu.OP @name [attributes {...}] [{ region }]</c>.</summary>
    private sealed class RegionSyntax : IOpSyntax
    {
        public void Print(Operation op, Printer p)
        {
            p.Write(op.Name).Write(' ');
            p.PrintSymbolName(SymbolTable.GetName(op) ?? "");
            p.PrintAttrDictWithKeyword(op, SymbolTable.SymNameAttr);
            if (op.Regions.Count == 1)
            {
                p.Write(' ');
                p.PrintRegion(op.Regions[0], printEntryArgs: false);
            }
        }

        public Operation Parse(OpParser parser, string name, Location location)
        {
            var s = new OperationState(name, location);
            s.AddAttr(SymbolTable.SymNameAttr, new StringAttr(parser.ParseSymbolName($"as {name}'s name")));
            if (parser.TryKeyword("attributes"))
            {
                s.Attributes.AddRange(parser.ParseAttrDict());
            }

            if (name != HostStep.Name)
            {
                var region = new Region();
                parser.ParseRegion(region, null, isolated: name == Program.Name);
                if (region.IsEmpty)
                {
                    region.AddBlock();
                }

                s.Regions.Add(region);
            }

            return Operation.Create(parser.Context, s);
        }
    }
}
