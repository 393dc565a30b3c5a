using System.Text;

namespace Tessera.Gguf;

/// <summary>
/// Minimal GGUF reader (stand-in until the gguf-reader branch lands; same public API). Reads the header, metadata and
/// tensor infos; tensor data stays memory-mapped.
/// </summary>
public sealed class GgufFile : IDisposable
{
    private readonly Dictionary<string, GgufValue> _kv = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GgufTensorInfo> _byName = new(StringComparer.Ordinal);

    private GgufFile(string path, MappedFile mapping)
    {
        Path = path;
        Mapping = mapping;
    }

    public string Path { get; }
    public uint Version { get; private set; }
    public long Alignment { get; private set; } = 32;
    public long DataOffset { get; private set; }
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata { get; private set; } = [];
    public IReadOnlyList<GgufTensorInfo> Tensors { get; private set; } = [];
    public MappedFile Mapping { get; }

    public GgufValue? Get(string key) => _kv.TryGetValue(key, out var v) ? v : null;
    public GgufTensorInfo? Tensor(string name) => _byName.TryGetValue(name, out var t) ? t : null;

    public static GgufFile Open(string path)
    {
        MappedFile m;
        try
        {
            m = MappedFile.Open(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw GgufCodes.Error(GgufCodes.FileUnreadable, path, e.Message);
        }

        var f = new GgufFile(path, m);
        f.Read();
        return f;
    }

    private long _pos;

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || _pos + n > Mapping.Length)
        {
            throw GgufCodes.Error(GgufCodes.Truncated, Path, $"needs {n} bytes at offset {_pos} but the file has {Mapping.Length}");
        }

        var s = Mapping.Slice(_pos, checked((int)n));
        _pos += n;
        return s;
    }

    private uint U32() => BitConverter.ToUInt32(Take(4));
    private ulong U64() => BitConverter.ToUInt64(Take(8));
    private string Str() => Encoding.UTF8.GetString(Take(checked((long)U64())));

    private GgufValue Value(GgufValueType t) => t switch
    {
        GgufValueType.U8 => new(t, Take(1)[0]),
        GgufValueType.I8 => new(t, (sbyte)Take(1)[0]),
        GgufValueType.U16 => new(t, BitConverter.ToUInt16(Take(2))),
        GgufValueType.I16 => new(t, BitConverter.ToInt16(Take(2))),
        GgufValueType.U32 => new(t, U32()),
        GgufValueType.I32 => new(t, BitConverter.ToInt32(Take(4))),
        GgufValueType.F32 => new(t, BitConverter.ToSingle(Take(4))),
        GgufValueType.Bool => new(t, Take(1)[0] != 0),
        GgufValueType.String => new(t, Str()),
        GgufValueType.U64 => new(t, U64()),
        GgufValueType.I64 => new(t, BitConverter.ToInt64(Take(8))),
        GgufValueType.F64 => new(t, BitConverter.ToDouble(Take(8))),
        GgufValueType.Array => ArrayValue(),
        _ => throw GgufCodes.Error(GgufCodes.BadType, Path, $"unknown metadata value type {(int)t}"),
    };

    private GgufValue ArrayValue()
    {
        var et = (GgufValueType)U32();
        ulong n = U64();
        if (n > (ulong)(Mapping.Length - _pos))
        {
            throw GgufCodes.Error(GgufCodes.Truncated, Path, $"array of {n} items is larger than the file");
        }

        var items = new List<GgufValue>((int)n);
        for (ulong i = 0; i < n; i++)
        {
            items.Add(Value(et));
        }

        return new(GgufValueType.Array, null, et, items);
    }

    private void Read()
    {
        if (Mapping.Length < 4 || Encoding.ASCII.GetString(Take(4)) != "GGUF")
        {
            throw GgufCodes.Error(GgufCodes.BadMagic, Path, "not a GGUF file (magic is not 'GGUF')");
        }

        Version = U32();
        if (Version is not (2 or 3))
        {
            throw GgufCodes.Error(GgufCodes.BadVersion, Path, $"GGUF version {Version} is not supported (2 or 3)");
        }

        ulong nt = U64(), nkv = U64();
        var md = new List<KeyValuePair<string, GgufValue>>();
        for (ulong i = 0; i < nkv; i++)
        {
            var key = Str();
            var v = Value((GgufValueType)U32());
            if (!_kv.TryAdd(key, v))
            {
                throw GgufCodes.Error(GgufCodes.Duplicate, Path, $"duplicate key '{key}'");
            }

            md.Add(new(key, v));
        }

        Metadata = md;
        if (Get("general.alignment") is { } a)
        {
            Alignment = a.AsLong();
        }

        var raw = new List<(string Name, long[] Dims, GgmlType Type, long Offset)>();
        for (ulong i = 0; i < nt; i++)
        {
            var name = Str();
            uint nd = U32();
            if (nd > 4)
            {
                throw GgufCodes.Error(GgufCodes.TooManyDims, Path, $"tensor '{name}' has {nd} dimensions (at most 4)");
            }

            var dims = new long[nd];
            for (int d = 0; d < nd; d++)
            {
                dims[d] = checked((long)U64());
            }

            raw.Add((name, dims, (GgmlType)U32(), checked((long)U64())));
        }

        DataOffset = (_pos + Alignment - 1) / Alignment * Alignment;
        var tensors = new List<GgufTensorInfo>();
        foreach (var (name, dims, type, off) in raw)
        {
            long n = dims.Aggregate(1L, (x, y) => checked(x * y));
            long bytes = type switch
            {
                GgmlType.F32 => n * 4,
                GgmlType.F16 or GgmlType.BF16 => n * 2,
                _ => BlockQuantType.All.FirstOrDefault(b => (int)b.Format == (int)type)?.ByteSize(n)
                    ?? throw GgufCodes.Error(GgufCodes.BadType, Path, $"tensor '{name}' has unsupported type {type}"),
            };
            var info = new GgufTensorInfo(name, dims, type, DataOffset + off, bytes);
            if (info.Offset + bytes > Mapping.Length)
            {
                throw GgufCodes.Error(GgufCodes.OutOfBounds, Path, $"tensor '{name}' data lies outside the file");
            }

            _byName[name] = info;
            tensors.Add(info);
        }

        Tensors = tensors;
    }

    public DenseElementsAttr TensorAttr(GgufTensorInfo t)
    {
        Type elem = t.Type switch
        {
            GgmlType.F32 => FloatType.F32,
            GgmlType.F16 => FloatType.F16,
            GgmlType.BF16 => FloatType.BF16,
            _ => BlockQuantType.All.First(b => (int)b.Format == (int)t.Type),
        };
        return new DenseElementsAttr(TensorType.Of(elem, t.Shape), new MappedStorage(Mapping, t.Offset, t.ByteSize));
    }

    public void Dispose() => Mapping.Dispose();
}
