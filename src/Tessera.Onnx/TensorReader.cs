using System.Buffers.Binary;
using Tessera.Dialects.Graph;
using Tessera.Onnx.Proto;

namespace Tessera.Onnx;

/// <summary>
/// TensorProto → dense attribute. Element counts use checked arithmetic and are compared with the bytes actually
/// present (raw data, typed fields, or the external file) before any buffer is allocated. External data is mapped,
/// not copied, and only from inside the model's directory.
/// </summary>
public sealed class TensorReader(string modelPath)
{
    private readonly Dictionary<string, MappedFile> _mapped = new(StringComparer.Ordinal);

    public string ModelPath { get; } = modelPath;

    public DenseElementsAttr Read(TensorProto t, string what)
    {
        var elem = OnnxTypes.ToIr(t.DataType)
            ?? throw OnnxCodes.Error(OnnxCodes.UnsupportedType, ModelPath, $"{what}: tensors of {OnnxTypes.Name(t.DataType)} are not supported");
        var shape = new long[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            shape[i] = t.Dims[i];
            if (shape[i] < 0)
            {
                throw OnnxCodes.Error(OnnxCodes.ImpossibleShape, ModelPath, $"{what}: dimension {i} is {shape[i]}");
            }

            try
            {
                count = checked(count * shape[i]);
            }
            catch (OverflowException)
            {
                throw OnnxCodes.Error(OnnxCodes.ImpossibleShape, ModelPath, $"{what}: the shape [{string.Join(", ", shape)}] overflows 64 bits");
            }
        }

        var type = new TensorType(shape.Select(d => new Dim(d)).ToArray(), elem);
        long bytes;
        try
        {
            bytes = ElementCodec.ByteSize(elem, count)!.Value;
        }
        catch (OverflowException)
        {
            throw OnnxCodes.Error(OnnxCodes.ImpossibleShape, ModelPath, $"{what}: {count} elements of {elem} overflow 64 bits");
        }

        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            return new DenseElementsAttr(type, External(t, what, bytes));
        }

        if (t.RawData.Length > 0 || count == 0)
        {
            if (t.RawData.Length != bytes)
            {
                throw OnnxCodes.Error(OnnxCodes.TensorSize, ModelPath, $"{what}: raw data has {t.RawData.Length} bytes but {type} needs {bytes}");
            }

            return new DenseElementsAttr(type, new ArrayStorage(t.RawData.ToByteArray()));
        }

        return new DenseElementsAttr(type, new ArrayStorage(FromTypedFields(t, elem, count, bytes, what)));
    }

    private byte[] FromTypedFields(TensorProto t, Type elem, long count, long bytes, string what)
    {
        long have = elem switch
        {
            FloatType { Kind: FloatKind.F32 } => t.FloatData.Count,
            FloatType { Kind: FloatKind.F64 } => t.DoubleData.Count,
            IntegerType { Width: 64, IsUnsigned: false } => t.Int64Data.Count,
            IntegerType { Width: 32 or 64, IsUnsigned: true } => t.Uint64Data.Count,
            IntegerType { Width: 4 } => t.Int32Data.Count * 2L,
            _ => t.Int32Data.Count,
        };
        bool ok = elem is IntegerType { Width: 4 } ? have == count || have == count + 1 : have == count;
        if (!ok)
        {
            throw OnnxCodes.Error(OnnxCodes.TensorSize, ModelPath, $"{what}: the tensor has {have} values but its shape holds {count}");
        }

        var buf = new byte[bytes];
        var span = buf.AsSpan();
        for (int i = 0; i < count; i++)
        {
            switch (elem)
            {
                case FloatType { Kind: FloatKind.F32 }: BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], t.FloatData[i]); break;
                case FloatType { Kind: FloatKind.F64 }: BinaryPrimitives.WriteDoubleLittleEndian(span[(i * 8)..], t.DoubleData[i]); break;
                case FloatType: BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], (ushort)t.Int32Data[i]); break; // f16/bf16 bits
                case IntegerType { Width: 64, IsUnsigned: false }: BinaryPrimitives.WriteInt64LittleEndian(span[(i * 8)..], t.Int64Data[i]); break;
                case IntegerType { Width: 64 }: BinaryPrimitives.WriteUInt64LittleEndian(span[(i * 8)..], t.Uint64Data[i]); break;
                case IntegerType { Width: 32, IsUnsigned: true }: BinaryPrimitives.WriteUInt32LittleEndian(span[(i * 4)..], (uint)t.Uint64Data[i]); break;
                case IntegerType { Width: 32 }: BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], t.Int32Data[i]); break;
                case IntegerType { Width: 16 }: BinaryPrimitives.WriteInt16LittleEndian(span[(i * 2)..], (short)t.Int32Data[i]); break;
                case IntegerType { Width: 8 or 1 }: buf[i] = (byte)t.Int32Data[i]; break;
                case IntegerType { Width: 4 }:
                    // int32_data packs two 4-bit values per entry, first in the low nibble.
                    int packed = t.Int32Data[i / 2];
                    int nib = (i % 2 == 0 ? packed : packed >> 4) & 0xF;
                    buf[i / 2] |= (byte)(nib << (4 * (i % 2)));
                    break;
                default:
                    throw OnnxCodes.Error(OnnxCodes.UnsupportedType, ModelPath, $"{what}: cannot read {elem} values from typed fields");
            }
        }

        return buf;
    }

    private MappedStorage External(TensorProto t, string what, long bytes)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var kv in t.ExternalData)
        {
            switch (kv.Key)
            {
                case "location": location = kv.Value; break;
                case "offset": offset = ParseLong(kv.Value, what, "offset"); break;
                case "length": length = ParseLong(kv.Value, what, "length"); break;
            }
        }

        if (string.IsNullOrEmpty(location))
        {
            throw OnnxCodes.Error(OnnxCodes.Malformed, ModelPath, $"{what}: external data has no 'location'");
        }

        var path = ExternalData.Resolve(ModelPath, location, what);
        long len = length ?? bytes;
        if (len != bytes)
        {
            throw OnnxCodes.Error(OnnxCodes.TensorSize, ModelPath, $"{what}: external data length {len} but the tensor needs {bytes} bytes");
        }

        if (!_mapped.TryGetValue(path, out var file))
        {
            try
            {
                file = MappedFile.Open(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OnnxCodes.Error(OnnxCodes.FileUnreadable, ModelPath, $"{what}: cannot map external data '{location}': {e.Message}");
            }

            _mapped[path] = file;
        }

        if (offset < 0 || offset > file.Length || bytes > file.Length - offset)
        {
            throw OnnxCodes.Error(OnnxCodes.ExternalBounds, ModelPath, $"{what}: external data [{offset}, +{bytes}) is outside '{location}' ({file.Length} bytes)");
        }

        return new MappedStorage(file, offset, bytes);
    }

    private long ParseLong(string s, string what, string key) =>
        long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v
            : throw OnnxCodes.Error(OnnxCodes.Malformed, ModelPath, $"{what}: external data '{key}' is not a non-negative integer: '{s}'");
}

/// <summary>Where external tensor data may come from: a file inside the model's directory, after following symlinks.</summary>
public static class ExternalData
{
    public static string Resolve(string modelPath, string location, string what)
    {
        if (Path.IsPathRooted(location) || location.Contains('\\') || location.Split('/').Any(p => p == ".."))
        {
            throw OnnxCodes.Error(OnnxCodes.PathEscape, modelPath, $"{what}: external data location '{location}' must be a relative path inside the model's directory (no '..', no absolute paths)");
        }

        var dir = RealPath(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        var target = RealPath(Path.Combine(dir, location));
        if (!target.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            throw OnnxCodes.Error(OnnxCodes.PathEscape, modelPath, $"{what}: external data location '{location}' resolves to '{target}', outside the model's directory");
        }

        if (!File.Exists(target))
        {
            throw OnnxCodes.Error(OnnxCodes.FileUnreadable, modelPath, $"{what}: external data file '{location}' does not exist");
        }

        return target;
    }

    /// <summary>The canonical path with every symlink component followed (a bounded number of hops).</summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var parts = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "/";
        int hops = 0;
        var queue = new Queue<string>(parts);
        while (queue.Count > 0)
        {
            var part = queue.Dequeue();
            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } link)
            {
                if (++hops > 40)
                {
                    throw new IOException($"too many symbolic links in {path}");
                }

                var resolved = Path.GetFullPath(Path.IsPathRooted(link) ? link : Path.Combine(current, link));
                var rest = queue.ToArray();
                queue = new Queue<string>(resolved.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest));
                current = "/";
                continue;
            }

            current = next;
        }

        return current;
    }
}
