using System.Text;

namespace Tessera.Gguf;

/// <summary>
/// Writes GGUF version 3: metadata of all 13 value types (nested arrays included), then tensor infos, then each
/// tensor's bytes padded to the alignment (<c>general.alignment</c> if set, else 32). Tensor data is given as bytes or
/// as a callback that streams them, so a model never has to be held in memory.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<Entry> _tensors = [];

    private sealed record Entry(string Name, GgmlType Type, long[] Dims, long Bytes, Action<Stream> Write);

    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    public long Alignment
    {
        get
        {
            var a = _metadata.FirstOrDefault(kv => kv.Key == "general.alignment").Value;
            return a is null ? GgufFile.DefaultAlignment : a.AsLong();
        }
    }

    public void Add(string key, GgufValue value)
    {
        GgufValues.Validate(value, key);
        if (_metadata.Any(kv => kv.Key == key))
        {
            throw new ArgumentException($"metadata key {key} is already set");
        }

        _metadata.Add(new(key, value));
    }

    /// <summary>A tensor with ggml dims <paramref name="dims"/> (innermost first) whose raw bytes are <paramref name="data"/>.</summary>
    public void AddTensor(string name, GgmlType type, long[] dims, ReadOnlyMemory<byte> data)
    {
        AddTensor(name, type, dims, s => s.Write(data.Span));
        if (_tensors[^1].Bytes != data.Length)
        {
            _tensors.RemoveAt(_tensors.Count - 1);
            throw new ArgumentException($"tensor {name}: {data.Length} bytes given, {type} {string.Join("x", dims)} takes {ByteSize(type, dims)}");
        }
    }

    /// <summary>A tensor whose bytes <paramref name="write"/> streams when the file is written; it must write exactly the tensor's size.</summary>
    public void AddTensor(string name, GgmlType type, long[] dims, Action<Stream> write)
    {
        if (dims.Length > GgufFile.MaxDims)
        {
            throw new ArgumentException($"tensor {name}: {dims.Length} dims, at most {GgufFile.MaxDims}");
        }

        if (_tensors.Any(t => t.Name == name))
        {
            throw new ArgumentException($"tensor {name} is already added");
        }

        _tensors.Add(new Entry(name, type, dims.ToArray(), ByteSize(type, dims), write));
    }

    public static long ByteSize(GgmlType type, long[] dims)
    {
        var (_, bytes, error, _) = GgmlTypes.Size(type, dims);
        return error is null ? bytes : throw new ArgumentException(error);
    }

    public void Write(string path)
    {
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Write(f);
    }

    public void Write(Stream output)
    {
        long alignment = Alignment;
        if (alignment < 1 || alignment > GgufFile.MaxAlignment || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentException($"general.alignment {alignment} is not a power of two from 1 to {GgufFile.MaxAlignment}");
        }

        var counted = new CountingStream(output);
        using (var w = new BinaryWriter(counted, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(GgufFile.Magic);
            w.Write(3u);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)_metadata.Count);
            foreach (var (key, value) in _metadata)
            {
                WriteString(w, key);
                w.Write((uint)value.Type);
                WriteValue(w, value);
            }

            long offset = 0;
            foreach (var t in _tensors)
            {
                WriteString(w, t.Name);
                w.Write((uint)t.Dims.Length);
                foreach (var d in t.Dims)
                {
                    w.Write((ulong)d);
                }

                w.Write((uint)t.Type);
                w.Write((ulong)offset);
                offset = GgufFile.AlignUp(offset + t.Bytes, alignment);
            }
        }

        Pad(counted, alignment);
        foreach (var t in _tensors)
        {
            long start = counted.Written;
            t.Write(counted);
            if (counted.Written - start != t.Bytes)
            {
                throw new InvalidOperationException($"tensor {t.Name}: {counted.Written - start} bytes written, {t.Bytes} expected");
            }

            Pad(counted, alignment);
        }

        counted.Flush();
    }

    private static void Pad(CountingStream s, long alignment)
    {
        long pad = GgufFile.AlignUp(s.Written, alignment) - s.Written;
        s.Write(new byte[pad]);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Value)
        {
            case byte b: w.Write(b); break;
            case sbyte b: w.Write(b); break;
            case ushort u: w.Write(u); break;
            case short s: w.Write(s); break;
            case uint u: w.Write(u); break;
            case int i: w.Write(i); break;
            case float f: w.Write(f); break;
            case bool b: w.Write((byte)(b ? 1 : 0)); break;
            case string s: WriteString(w, s); break;
            case ulong u: w.Write(u); break;
            case long l: w.Write(l); break;
            case double d: w.Write(d); break;
            case null when v.Type == GgufValueType.Array:
                w.Write((uint)v.ElementType!.Value);
                w.Write((ulong)v.Items!.Count);
                foreach (var item in v.Items)
                {
                    WriteValue(w, item);
                }

                break;
            default: throw new ArgumentException($"cannot write a GGUF {v.Type} holding {v.Value?.GetType().Name}");
        }
    }

    /// <summary>Passes writes through and counts them, so padding and tensor sizes need no seekable stream.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }

        public override void WriteByte(byte value) => Write([value]);
    }
}
