using System.Buffers.Binary;

namespace Tessera.Npu.Isa;

/// <summary>One decoded instruction: its definition, the semaphores it waits on and signals (0 = none), and one value per field
/// (for an address field, the offset; its base register is in <see cref="Regs"/>).</summary>
public sealed class Instr
{
    public const int Bytes = 16;

    public OpDef Op { get; }
    public int Wait { get; init; }
    public int Signal { get; init; }
    public long[] Values { get; }
    public int[] Regs { get; }

    public Instr(OpDef op, long[]? values = null, int[]? regs = null)
    {
        Op = op;
        Values = values ?? new long[op.Fields.Count];
        Regs = regs ?? new int[op.Fields.Count];
    }

    public long this[string field] => Values[Index(field)];
    public int Reg(string field) => Regs[Index(field)];

    private int Index(string field) => Op.FieldIndex(field) is >= 0 and var i ? i : throw new InvalidOperationException($"{Op.Mnemonic} has no field {field}");

    public UInt128 Encode()
    {
        UInt128 w = Op.Opcode;
        w |= (UInt128)(uint)Wait << 8;
        w |= (UInt128)(uint)Signal << 13;
        for (int i = 0; i < Op.Fields.Count; i++)
        {
            var f = Op.Fields[i];
            ulong mask = f.Width == 64 ? ulong.MaxValue : (1UL << f.Width) - 1;
            w |= (UInt128)((ulong)Values[i] & mask) << f.Lo;
            if (f.Kind == FieldKind.Address)
            {
                w |= (UInt128)((ulong)Regs[i] & 15) << f.RegLo;
            }
        }

        return w;
    }

    public void Encode(Span<byte> dest)
    {
        var w = Encode();
        BinaryPrimitives.WriteUInt64LittleEndian(dest, (ulong)w);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[8..], (ulong)(w >> 64));
    }

    /// <summary>Decodes 16 little-endian bytes; an unknown opcode or a set reserved bit is TSR0814.</summary>
    public static Instr Decode(ReadOnlySpan<byte> src, int pc)
    {
        var w = ((UInt128)BinaryPrimitives.ReadUInt64LittleEndian(src[8..]) << 64) | BinaryPrimitives.ReadUInt64LittleEndian(src);
        var op = Opcodes.Find((byte)w) ?? throw NpuCodes.Error(NpuCodes.DecodeBad, $"program.bin:{pc}", $"unknown opcode 0x{(byte)w:X2}");
        if (op.UsedBits < 128 && w >> op.UsedBits != 0)
        {
            throw NpuCodes.Error(NpuCodes.DecodeBad, $"program.bin:{pc}", $"{op.Mnemonic}: reserved bits [{op.UsedBits},128) are not zero");
        }

        var instr = new Instr(op) { Wait = (int)(uint)(w >> 8) & 31, Signal = (int)(uint)(w >> 13) & 31 };
        for (int i = 0; i < op.Fields.Count; i++)
        {
            var f = op.Fields[i];
            ulong raw = (ulong)(w >> f.Lo) & (f.Width == 64 ? ulong.MaxValue : (1UL << f.Width) - 1);
            instr.Values[i] = f.Kind == FieldKind.Signed ? (long)(raw << (64 - f.Width)) >> (64 - f.Width) : (long)raw;
            if (f.Kind == FieldKind.Address)
            {
                instr.Regs[i] = (int)(uint)(w >> f.RegLo) & 15;
            }
            else if (f.Kind == FieldKind.Enum && raw >= (ulong)f.Names!.Length)
            {
                throw NpuCodes.Error(NpuCodes.DecodeBad, $"program.bin:{pc}", $"{op.Mnemonic}: field {f.Name} has no value {raw}");
            }
        }

        return instr;
    }

    public override string ToString() => Disassembler.Format(this);
}
