using System.Buffers.Binary;

namespace Tessera.IR;

/// <summary>The byte layout of dense elements (see <see cref="DenseElementsAttr"/>).</summary>
public static class ElementCodec
{
    /// <summary>Storage bits per element, or null for block-quantized types (see <see cref="ByteSize"/>).</summary>
    public static int? StorageBits(Type element) => element switch
    {
        IntegerType { Width: 1 } => 8,
        IntegerType i => i.Width,
        FloatType f => f.Width,
        IndexType => 64,
        QuantizedType q => StorageBits(q.Storage),
        _ => null,
    };

    /// <summary>Bytes for <paramref name="count"/> elements, null if the type has no dense layout. Throws OverflowException.</summary>
    public static long? ByteSize(Type element, long count)
    {
        if (element is BlockQuantType b)
        {
            return b.ByteSize(count);
        }

        return StorageBits(element) switch
        {
            null => null,
            4 => checked((count + 1) / 2),
            int bits => checked(count * (bits / 8)),
        };
    }

    public static bool IsFloatLike(Type element) => element is FloatType;

    public static byte[] Encode(Type element, IReadOnlyList<double> values)
    {
        if (element is not FloatType f)
        {
            return EncodeInts(element, values.Select(v => (long)v).ToArray());
        }

        var bytes = new byte[checked(values.Count * (f.Width / 8))];
        for (int i = 0; i < values.Count; i++)
        {
            WriteFloat(f, bytes.AsSpan(i * (f.Width / 8)), values[i]);
        }

        return bytes;
    }

    public static byte[] EncodeInts(Type element, IReadOnlyList<long> values)
    {
        if (element is FloatType)
        {
            return Encode(element, values.Select(v => (double)v).ToArray());
        }

        int bits = StorageBits(element) ?? throw new ArgumentException($"type {element} has no dense element layout");
        var bytes = new byte[ByteSize(element, values.Count)!.Value];
        for (int i = 0; i < values.Count; i++)
        {
            long v = values[i];
            switch (bits)
            {
                case 4:
                    bytes[i / 2] |= (byte)((v & 0xF) << (4 * (i % 2)));
                    break;
                case 8: bytes[i] = (byte)v; break;
                case 16: BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), (short)v); break;
                case 32: BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), (int)v); break;
                case 64: BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), v); break;
                default: throw new InvalidOperationException($"unsupported width {bits}");
            }
        }

        return bytes;
    }

    public static void WriteFloat(FloatType f, Span<byte> dest, double v)
    {
        switch (f.Kind)
        {
            case FloatKind.F64: BinaryPrimitives.WriteDoubleLittleEndian(dest, v); break;
            case FloatKind.F32: BinaryPrimitives.WriteSingleLittleEndian(dest, (float)v); break;
            case FloatKind.F16: BinaryPrimitives.WriteHalfLittleEndian(dest, (Half)v); break;
            case FloatKind.BF16: BinaryPrimitives.WriteUInt16LittleEndian(dest, BFloat16.FromFloat((float)v)); break;
            default: throw new InvalidOperationException($"unknown float kind {f.Kind}");
        }
    }

    public static double ReadDouble(Type element, DenseStorage storage, long index)
    {
        if (element is not FloatType f)
        {
            return ReadLong(element, storage, index);
        }

        int size = f.Width / 8;
        var s = storage.Slice(checked(index * size), size);
        return f.Kind switch
        {
            FloatKind.F64 => BinaryPrimitives.ReadDoubleLittleEndian(s),
            FloatKind.F32 => BinaryPrimitives.ReadSingleLittleEndian(s),
            FloatKind.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(s),
            FloatKind.BF16 => BFloat16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(s)),
            _ => throw new InvalidOperationException($"unknown float kind {f.Kind}"),
        };
    }

    /// <summary>Reads an integer element, sign- or zero-extending by the type's signedness (i1 reads as 0 or 1).</summary>
    public static long ReadLong(Type element, DenseStorage storage, long index)
    {
        if (element is FloatType)
        {
            return (long)ReadDouble(element, storage, index);
        }

        var storageType = element is QuantizedType q ? q.Storage : element;
        bool unsigned = storageType is IntegerType { IsUnsigned: true };
        int bits = StorageBits(element) ?? throw new ArgumentException($"type {element} has no dense element layout");
        if (storageType is IntegerType { Width: 1 })
        {
            return storage.Slice(index, 1)[0] != 0 ? 1 : 0;
        }

        switch (bits)
        {
            case 4:
                int nib = (storage.Slice(index / 2, 1)[0] >> (int)(4 * (index % 2))) & 0xF;
                return unsigned ? nib : (nib ^ 8) - 8;
            case 8:
                byte b = storage.Slice(index, 1)[0];
                return unsigned ? b : (sbyte)b;
            case 16:
                var s16 = storage.Slice(checked(index * 2), 2);
                return unsigned ? BinaryPrimitives.ReadUInt16LittleEndian(s16) : BinaryPrimitives.ReadInt16LittleEndian(s16);
            case 32:
                var s32 = storage.Slice(checked(index * 4), 4);
                return unsigned ? BinaryPrimitives.ReadUInt32LittleEndian(s32) : BinaryPrimitives.ReadInt32LittleEndian(s32);
            case 64:
                return BinaryPrimitives.ReadInt64LittleEndian(storage.Slice(checked(index * 8), 8));
            default:
                throw new InvalidOperationException($"unsupported width {bits}");
        }
    }
}
