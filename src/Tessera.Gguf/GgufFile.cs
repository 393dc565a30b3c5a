namespace Tessera.Gguf;

/// <summary>
/// A GGUF file (version 2 or 3), memory-mapped and validated on open: every count, length, shape, type, offset and the
/// alignment are checked before use, so a malformed file gets a coded <see cref="DiagnosticException"/> naming the key
/// or tensor, never an allocation it cannot back or a read outside the file. Tensor data is never copied.
/// </summary>
public sealed class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" read little-endian
    public const long DefaultAlignment = 32;
    public const long MaxAlignment = 1 << 16;
    public const int MaxDims = 4;

    private readonly Dictionary<string, GgufValue> _byKey;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufFile(string path, MappedFile mapping, uint version, long alignment, long dataOffset,
        List<KeyValuePair<string, GgufValue>> metadata, Dictionary<string, GgufValue> byKey,
        List<GgufTensorInfo> tensors, Dictionary<string, GgufTensorInfo> byName)
    {
        Path = path;
        Mapping = mapping;
        Version = version;
        Alignment = alignment;
        DataOffset = dataOffset;
        Metadata = metadata;
        _byKey = byKey;
        Tensors = tensors;
        _byName = byName;
    }

    public string Path { get; }
    public uint Version { get; }
    public long Alignment { get; }

    /// <summary>Where the data section starts (absolute); tensor offsets are relative to it in the file, absolute in <see cref="Tensors"/>.</summary>
    public long DataOffset { get; }

    /// <summary>Every key-value pair, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public MappedFile Mapping { get; }

    public GgufValue? Get(string key) => _byKey.GetValueOrDefault(key);

    public GgufTensorInfo? Tensor(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The architecture (<c>general.architecture</c>) or null.</summary>
    public string? Architecture => Get("general.architecture")?.Value as string;

    public static GgufFile Open(string path)
    {
        MappedFile mapping;
        try
        {
            mapping = MappedFile.Open(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw GgufCodes.Error(GgufCodes.FileUnreadable, path, $"cannot read the file: {e.Message}");
        }

        try
        {
            return Parse(path, mapping);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    private static GgufFile Parse(string path, MappedFile mapping)
    {
        var c = new GgufCursor(mapping, path);
        if (mapping.Length < 4 || c.U32("magic") != Magic)
        {
            throw c.Error(GgufCodes.BadMagic, "not a GGUF file (the magic is not \"GGUF\")");
        }

        uint version = c.U32("version");
        if (version is not (2 or 3))
        {
            string hint = version == 1 ? " (GGUF v1 is not supported)"
                : (version & 0xFFFF) == 0 ? " (a big-endian file? only little-endian GGUF is supported)" : "";
            throw c.Error(GgufCodes.BadVersion, $"GGUF version {version} is not supported; expected 2 or 3{hint}");
        }

        // A tensor info takes at least 24 bytes (empty name, no dims); a key-value pair at least 13.
        long nTensors = c.Count("tensor count", 24);
        long nKv = c.Count("metadata key-value count", 13);

        var metadata = new List<KeyValuePair<string, GgufValue>>((int)nKv);
        var byKey = new Dictionary<string, GgufValue>((int)nKv, StringComparer.Ordinal);
        for (long i = 0; i < nKv; i++)
        {
            string key = c.String($"metadata key #{i}");
            var type = c.ValueType($"{key}: value type");
            var value = c.Value(type, key);
            if (!byKey.TryAdd(key, value))
            {
                throw c.Error(GgufCodes.Duplicate, $"metadata key {key} appears twice");
            }

            metadata.Add(new(key, value));
        }

        long alignment = ReadAlignment(c, byKey);

        var raw = new List<(string Name, long[] Dims, GgmlType Type, ulong Offset)>((int)nTensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < nTensors; i++)
        {
            string name = c.String($"name of tensor #{i}");
            if (!names.Add(name))
            {
                throw c.Error(GgufCodes.Duplicate, $"tensor {name} appears twice");
            }

            uint nDims = c.U32($"tensor {name}: n_dims");
            if (nDims > MaxDims)
            {
                throw c.Error(GgufCodes.TooManyDims, $"tensor {name} has {nDims} dimensions; at most {MaxDims} are allowed");
            }

            var dims = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                ulong v = c.U64($"tensor {name}: dimension {d}");
                if (v > long.MaxValue)
                {
                    throw c.Error(GgufCodes.Overflow, $"tensor {name}: dimension {d} is {v}, more than {long.MaxValue}");
                }

                dims[d] = (long)v;
            }

            uint t = c.U32($"tensor {name}: type");
            if (!Enum.IsDefined((GgmlType)t) || !GgmlTypes.IsKnown((GgmlType)t))
            {
                throw c.Error(GgufCodes.BadType, $"tensor {name} has unknown ggml type {t}");
            }

            raw.Add((name, dims, (GgmlType)t, c.U64($"tensor {name}: offset")));
        }

        long dataOffset = AlignUp(c.Position, alignment);
        var tensors = new List<GgufTensorInfo>(raw.Count);
        var byName = new Dictionary<string, GgufTensorInfo>(raw.Count, StringComparer.Ordinal);
        foreach (var (name, dims, type, offset) in raw)
        {
            var info = Check(c, mapping.Length, dataOffset, alignment, name, dims, type, offset);
            tensors.Add(info);
            byName.Add(name, info);
        }

        return new GgufFile(path, mapping, version, alignment, dataOffset, metadata, byKey, tensors, byName);
    }

    private static long ReadAlignment(GgufCursor c, Dictionary<string, GgufValue> byKey)
    {
        if (!byKey.TryGetValue("general.alignment", out var a))
        {
            return DefaultAlignment;
        }

        if (a.Type is not (GgufValueType.U32 or GgufValueType.U64 or GgufValueType.I32 or GgufValueType.U16 or GgufValueType.U8))
        {
            throw c.Error(GgufCodes.BadAlignment, $"general.alignment has type {a.Type}; expected u32");
        }

        long v = a.AsLong();
        if (v < 1 || v > MaxAlignment || (v & (v - 1)) != 0)
        {
            throw c.Error(GgufCodes.BadAlignment, $"general.alignment is {v}; it must be a power of two from 1 to {MaxAlignment}");
        }

        return v;
    }

    private static GgufTensorInfo Check(GgufCursor c, long fileLength, long dataOffset, long alignment,
        string name, long[] dims, GgmlType type, ulong offset)
    {
        var (_, bytes, error, overflow) = GgmlTypes.Size(type, dims);
        if (error is not null)
        {
            throw c.Error(overflow ? GgufCodes.Overflow : GgufCodes.BadShape, $"tensor {name}: {error}");
        }

        if (offset % (ulong)alignment != 0)
        {
            throw c.Error(GgufCodes.BadAlignment, $"tensor {name}: offset {offset} is not a multiple of the alignment {alignment}");
        }

        long dataSize = fileLength - dataOffset;
        if (dataSize < 0 || offset > (ulong)dataSize || bytes > dataSize - (long)offset)
        {
            throw c.Error(GgufCodes.OutOfBounds,
                $"tensor {name}: data [{offset}, +{bytes}) lies outside the data section ({Math.Max(0, dataSize)} bytes from byte {dataOffset})");
        }

        return new GgufTensorInfo(name, dims, type, dataOffset + (long)offset, bytes);
    }

    internal static long AlignUp(long n, long alignment) => checked((n + alignment - 1) / alignment * alignment);

    /// <summary>
    /// The tensor as a constant of shape <see cref="GgufTensorInfo.Shape"/>: F32/F16/BF16 (and I8..I64, F64) as those
    /// element types, block formats as <c>!ggml.&lt;type&gt;</c>. The storage is a slice of the mapping (no copy).
    /// </summary>
    public DenseElementsAttr TensorAttr(GgufTensorInfo t)
    {
        var elem = GgmlTypes.ElementType(t.Type)
            ?? throw GgufCodes.Error(GgufCodes.BadType, Path, $"tensor {t.Name} has type {t.Type}, which Tessera does not support");
        return new DenseElementsAttr(TensorType.Of(elem, t.Shape), new MappedStorage(Mapping, t.Offset, t.ByteSize));
    }

    public void Dispose() => Mapping.Dispose();
}
