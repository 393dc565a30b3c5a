namespace Tessera.Npu.Isa;

/// <summary>Which engine runs an instruction. <see cref="Front"/> is the command processor itself (zero cycles).</summary>
public enum Queue { Load, Matrix, Vector, Store, Front }

/// <summary>How a field is written in assembly: a number, a register <c>rN</c>, an address <c>rN+offset</c>, or a name.</summary>
public enum FieldKind { Unsigned, Signed, Register, Address, Enum }

/// <summary>One operand field. Addresses carry a 4-bit base register at <see cref="RegLo"/> and an offset at <see cref="Lo"/>.</summary>
public sealed record FieldDef(string Name, FieldKind Kind, int Lo, int Width, int RegLo = -1, string[]? Names = null)
{
    public long Max => Kind == FieldKind.Signed ? (1L << (Width - 1)) - 1 : (long)((1UL << Width) - 1);
    public long Min => Kind == FieldKind.Signed ? -(1L << (Width - 1)) : 0;
}

/// <summary>An instruction declared as data: mnemonic, 8-bit opcode, queue and fields, laid out from bit 18 up in order.</summary>
public sealed class OpDef
{
    public const int CommonBits = 18;

    public string Mnemonic { get; }
    public byte Opcode { get; }
    public Queue Queue { get; }
    public IReadOnlyList<FieldDef> Fields { get; }
    public string Summary { get; }

    public OpDef(string mnemonic, byte opcode, Queue queue, string summary, params (string Name, FieldKind Kind, int Width, string[]? Names)[] fields)
    {
        Mnemonic = mnemonic;
        Opcode = opcode;
        Queue = queue;
        Summary = summary;
        var list = new List<FieldDef>();
        int bit = CommonBits;
        foreach (var (name, kind, width, names) in fields)
        {
            if (kind == FieldKind.Address)
            {
                list.Add(new FieldDef(name, kind, bit + 4, width, bit, null));
                bit += 4 + width;
            }
            else
            {
                list.Add(new FieldDef(name, kind, bit, width, -1, names));
                bit += width;
            }
        }

        if (bit > 128)
        {
            throw new InvalidOperationException($"{mnemonic}: fields need {bit} bits");
        }

        Fields = list;
        UsedBits = bit;
    }

    public int UsedBits { get; }

    public int FieldIndex(string name)
    {
        for (int i = 0; i < Fields.Count; i++)
        {
            if (Fields[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }
}
