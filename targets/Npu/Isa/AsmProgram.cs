namespace Tessera.Npu.Isa;

/// <summary>A named tensor in DRAM: what the bundle's manifest lists and <c>tessera sim --input/--expected-output</c> bind to.</summary>
public sealed record TensorDecl(string Name, string Role, long DramAddress, long[] Shape, string Type)
{
    /// <summary>input and weight tensors may have initial contents; output tensors are checked; activations are
    /// intermediates a compiled model passes between its steps.</summary>
    public static readonly string[] Roles = ["input", "weight", "output", "activation"];
    public static readonly string[] Types = ["i8", "i32", "f32", "f16", "bf16", "i4", "i64", "bool"];

    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public long Bytes => Type switch
    {
        "i8" or "bool" => Elements,
        "i64" => Elements * 8,
        "i4" => (Elements + 1) / 2,
        "f16" or "bf16" => Elements * 2,
        _ => Elements * 4,
    };
}

/// <summary>What the assembler produces and the bundle carries: instructions, descriptors, tensors, entry points.</summary>
public sealed class AsmProgram
{
    public string Target { get; set; } = "e1";
    public List<Instr> Instrs { get; } = [];
    public List<DmaDescriptor> Descriptors { get; } = [];
    public List<TensorDecl> Tensors { get; } = [];
    public SortedDictionary<string, int> Entries { get; } = new(StringComparer.Ordinal);

    public byte[] ProgramBytes()
    {
        var b = new byte[Instrs.Count * Instr.Bytes];
        for (int i = 0; i < Instrs.Count; i++)
        {
            Instrs[i].Encode(b.AsSpan(i * Instr.Bytes));
        }

        return b;
    }

    public byte[] DescriptorBytes()
    {
        var b = new byte[Descriptors.Count * DmaDescriptor.Bytes];
        for (int i = 0; i < Descriptors.Count; i++)
        {
            Descriptors[i].Write(b.AsSpan(i * DmaDescriptor.Bytes));
        }

        return b;
    }

    public static List<Instr> DecodeProgram(ReadOnlySpan<byte> bin)
    {
        if (bin.Length % Instr.Bytes != 0)
        {
            throw NpuCodes.Error(NpuCodes.DecodeBad, "program.bin", $"length {bin.Length} is not a multiple of {Instr.Bytes}");
        }

        var list = new List<Instr>(bin.Length / Instr.Bytes);
        for (int i = 0; i < bin.Length / Instr.Bytes; i++)
        {
            list.Add(Instr.Decode(bin.Slice(i * Instr.Bytes, Instr.Bytes), i));
        }

        return list;
    }

    public static List<DmaDescriptor> DecodeDescriptors(ReadOnlySpan<byte> bin)
    {
        if (bin.Length % DmaDescriptor.Bytes != 0)
        {
            throw NpuCodes.Error(NpuCodes.DecodeBad, "dma.bin", $"length {bin.Length} is not a multiple of {DmaDescriptor.Bytes}");
        }

        var list = new List<DmaDescriptor>();
        for (int i = 0; i < bin.Length / DmaDescriptor.Bytes; i++)
        {
            list.Add(DmaDescriptor.Read(bin.Slice(i * DmaDescriptor.Bytes, DmaDescriptor.Bytes), i));
        }

        return list;
    }
}
