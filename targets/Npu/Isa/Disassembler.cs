using System.Globalization;
using System.Text;

namespace Tessera.Npu.Isa;

/// <summary>Prints the canonical text the assembler reads back to the same bytes: fields in table order, zero fields left out.</summary>
public static class Disassembler
{
    public static string Format(Instr ins)
    {
        var sb = new StringBuilder(ins.Op.Mnemonic);
        for (int i = 0; i < ins.Op.Fields.Count; i++)
        {
            var f = ins.Op.Fields[i];
            long v = ins.Values[i];
            int reg = ins.Regs[i];
            if (v == 0 && reg == 0 && f.Kind != FieldKind.Register)
            {
                continue;
            }

            sb.Append(' ').Append(f.Name).Append('=').Append(f.Kind switch
            {
                FieldKind.Register => "r" + v.ToString(CultureInfo.InvariantCulture),
                FieldKind.Address => reg == 0 ? Hex(v) : v == 0 ? $"r{reg}" : $"r{reg}+{Hex(v)}",
                FieldKind.Enum => f.Names![v],
                _ => v.ToString(CultureInfo.InvariantCulture),
            });
        }

        if (ins.Wait != 0)
        {
            sb.Append(" wait=").Append(ins.Wait.ToString(CultureInfo.InvariantCulture));
        }

        if (ins.Signal != 0)
        {
            sb.Append(" signal=").Append(ins.Signal.ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    private static string Hex(long v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    public static string FormatDescriptor(int index, DmaDescriptor d)
    {
        static string L(int[] a) => string.Join(",", a.Select(x => x.ToString(CultureInfo.InvariantCulture)));
        var sb = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $".desc {index} dims={L(d.Dims)} dram_strides={L(d.DramStrides)} sram_strides={L(d.SramStrides)} elem={d.ElemBytes}"));
        if (d.Pad.Any(p => p != 0))
        {
            sb.Append(" pad=").Append(L(d.Pad));
        }

        if (d.PadValue != 0)
        {
            sb.Append(" pad_value=").Append(d.PadValue.ToString(CultureInfo.InvariantCulture));
        }

        if (d.UnpackInt4)
        {
            sb.Append(" unpack_int4");
        }

        if (d.Transpose)
        {
            sb.Append(" transpose");
        }

        return sb.ToString();
    }

    /// <summary>The whole program: directives, then instructions indented by loop depth.</summary>
    public static string Format(AsmProgram p)
    {
        var sb = new StringBuilder();
        sb.Append(".target ").Append(p.Target).Append('\n');
        for (int i = 0; i < p.Descriptors.Count; i++)
        {
            sb.Append(FormatDescriptor(i, p.Descriptors[i])).Append('\n');
        }

        foreach (var t in p.Tensors)
        {
            sb.Append(CultureInfo.InvariantCulture, $".tensor {t.Name} {t.Role} dram={Hex(t.DramAddress)} shape={string.Join(",", t.Shape)} type={t.Type}\n");
        }

        var entriesAt = p.Entries.GroupBy(e => e.Value).ToDictionary(g => g.Key, g => g.Select(e => e.Key).ToList());
        int depth = 0;
        for (int pc = 0; pc < p.Instrs.Count; pc++)
        {
            foreach (var name in entriesAt.GetValueOrDefault(pc) ?? [])
            {
                sb.Append(".entry ").Append(name).Append('\n');
            }

            var ins = p.Instrs[pc];
            if (ins.Op.Mnemonic == "endloop" && depth > 0)
            {
                depth--;
            }

            sb.Append(' ', 2 * depth).Append(Format(ins)).Append('\n');
            if (ins.Op.Mnemonic == "loop")
            {
                depth++;
            }
        }

        return sb.ToString();
    }
}
