using System.Buffers.Binary;

namespace Tessera.Npu.Isa;

/// <summary>A 3-D strided transfer (dims outer→inner), with padding on the two inner dims, int4→int8 unpack and a transpose of
/// the two inner dims on load. 64 bytes in dma.bin; see docs/npu/isa.md.</summary>
public sealed record DmaDescriptor
{
    public const int Bytes = 64;

    public int[] Dims { get; init; } = [1, 1, 1];
    public int[] DramStrides { get; init; } = [0, 0, 0];
    public int[] SramStrides { get; init; } = [0, 0, 0];
    public int ElemBytes { get; init; } = 1;

    /// <summary>before1, after1, before2, after2: padding elements added around dims 1 and 2.</summary>
    public int[] Pad { get; init; } = [0, 0, 0, 0];
    public int PadValue { get; init; }
    public bool UnpackInt4 { get; init; }
    public bool Transpose { get; init; }

    /// <summary>DRAM bytes the transfer moves (what the DMA timing charges).</summary>
    public long DramBytes => UnpackInt4 ? (long)Dims[0] * Dims[1] * ((Dims[2] + 1) / 2) : (long)Dims[0] * Dims[1] * Dims[2] * ElemBytes;

    public void Write(Span<byte> d)
    {
        d[..Bytes].Clear();
        d[0] = (byte)((UnpackInt4 ? 1 : 0) | (Transpose ? 2 : 0));
        d[1] = (byte)ElemBytes;
        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(d[(4 + 4 * i)..], Dims[i]);
            BinaryPrimitives.WriteInt32LittleEndian(d[(16 + 4 * i)..], DramStrides[i]);
            BinaryPrimitives.WriteInt32LittleEndian(d[(28 + 4 * i)..], SramStrides[i]);
        }

        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(d[(40 + 2 * i)..], (ushort)Pad[i]);
        }

        BinaryPrimitives.WriteInt32LittleEndian(d[48..], PadValue);
    }

    public static DmaDescriptor Read(ReadOnlySpan<byte> d, int index)
    {
        var where = $"dma.bin:{index}";
        if ((d[0] & ~3) != 0 || d[2] != 0 || d[3] != 0 || d[52..Bytes].ContainsAnyExcept((byte)0))
        {
            throw NpuCodes.Error(NpuCodes.DecodeBad, where, "reserved descriptor bits are not zero");
        }

        static int[] Ints(ReadOnlySpan<byte> d, int at) => [BinaryPrimitives.ReadInt32LittleEndian(d[at..]), BinaryPrimitives.ReadInt32LittleEndian(d[(at + 4)..]), BinaryPrimitives.ReadInt32LittleEndian(d[(at + 8)..])];
        var pad = new int[4];
        for (int i = 0; i < 4; i++)
        {
            pad[i] = BinaryPrimitives.ReadUInt16LittleEndian(d[(40 + 2 * i)..]);
        }

        var desc = new DmaDescriptor
        {
            UnpackInt4 = (d[0] & 1) != 0,
            Transpose = (d[0] & 2) != 0,
            ElemBytes = d[1],
            Dims = Ints(d, 4),
            DramStrides = Ints(d, 16),
            SramStrides = Ints(d, 28),
            Pad = pad,
            PadValue = BinaryPrimitives.ReadInt32LittleEndian(d[48..]),
        };
        desc.Validate(where);
        return desc;
    }

    /// <summary>Checks the rules of docs/npu/isa.md § DMA descriptors; TSR0813 names the bad field.</summary>
    public void Validate(string where)
    {
        void Need(bool ok, string what)
        {
            if (!ok)
            {
                throw NpuCodes.Error(NpuCodes.AsmRange, where, $"descriptor: {what}");
            }
        }

        Need(ElemBytes is 1 or 2 or 4, $"elem must be 1, 2 or 4, not {ElemBytes}");
        Need(Dims.All(x => x >= 1 && x <= 65535), "dims must be in [1, 65535]");
        Need(Pad.All(x => x >= 0 && x <= 65535), "pad must be in [0, 65535]");
        Need(!UnpackInt4 || ElemBytes == 1, "unpack_int4 needs elem=1");
        Need(!UnpackInt4 || DramStrides[2] == 0, "unpack_int4 needs dram_strides[2]=0 (inner elements are consecutive nibbles)");
    }
}
