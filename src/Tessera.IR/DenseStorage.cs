using System.IO.MemoryMappedFiles;

namespace Tessera.IR;

/// <summary>The bytes behind a dense constant: a managed array, or a slice of a memory-mapped file.</summary>
public abstract class DenseStorage
{
    public abstract long Length { get; }

    /// <summary>A view of <paramref name="length"/> bytes at <paramref name="offset"/>; never copies.</summary>
    public abstract ReadOnlySpan<byte> Slice(long offset, int length);

    /// <summary>The whole storage; only for storage under 2 GiB.</summary>
    public ReadOnlySpan<byte> Span => Slice(0, checked((int)Length));

    private const int Chunk = 1 << 20;

    public bool ContentEquals(DenseStorage other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (Length != other.Length)
        {
            return false;
        }

        for (long off = 0; off < Length; off += Chunk)
        {
            int n = (int)Math.Min(Chunk, Length - off);
            if (!Slice(off, n).SequenceEqual(other.Slice(off, n)))
            {
                return false;
            }
        }

        return true;
    }

    public ulong ContentHash()
    {
        // FNV-1a over 8-byte words (then the last bytes): stable across runs and processes, unlike string.GetHashCode,
        // and 8 times fewer steps than bytewise, which mattered when cse hashed a gigabyte of weights.
        ulong h = 14695981039346656037UL;
        for (long off = 0; off < Length; off += Chunk)
        {
            var bytes = Slice(off, (int)Math.Min(Chunk, Length - off));
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(bytes);
            foreach (ulong w in words)
            {
                h = (h ^ w) * 1099511628211UL;
            }

            foreach (byte b in bytes[(words.Length * sizeof(ulong))..])
            {
                h = (h ^ b) * 1099511628211UL;
            }
        }

        return h;
    }
}

public sealed class ArrayStorage(byte[] bytes) : DenseStorage
{
    public byte[] Bytes { get; } = bytes;
    public override long Length => Bytes.LongLength;

    public override ReadOnlySpan<byte> Slice(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, Length);
        return Bytes.AsSpan(checked((int)offset), length);
    }
}

/// <summary>A read-only memory mapping of a whole file, shared by every constant that points into it.</summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _mmf;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    private MappedFile(string path, long length, MemoryMappedFile mmf, MemoryMappedViewAccessor view)
    {
        Path = path;
        Length = length;
        _mmf = mmf;
        _view = view;
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    public string Path { get; }
    public long Length { get; }

    public static MappedFile Open(string path)
    {
        var length = new FileInfo(path).Length;
        if (length == 0)
        {
            throw new IOException($"{path}: file is empty");
        }

        var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        return new MappedFile(path, length, mmf, view);
    }

    public ReadOnlySpan<byte> Slice(long offset, int length)
    {
        if (_base == null)
        {
            throw new ObjectDisposedException(Path);
        }

        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{Path}: [{offset}, +{length}) is outside the file ({Length} bytes)");
        }

        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    public void Dispose()
    {
        if (_base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }

        _view.Dispose();
        _mmf.Dispose();
    }
}

/// <summary>A slice of a <see cref="MappedFile"/>; the bounds are checked once, here.</summary>
public sealed class MappedStorage : DenseStorage
{
    public MappedStorage(MappedFile file, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > file.Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{file.Path}: [{offset}, +{length}) is outside the file ({file.Length} bytes)");
        }

        File = file;
        Offset = offset;
        _length = length;
    }

    private readonly long _length;
    public MappedFile File { get; }
    public long Offset { get; }
    public override long Length => _length;

    public override ReadOnlySpan<byte> Slice(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > _length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        return File.Slice(Offset + offset, length);
    }
}
