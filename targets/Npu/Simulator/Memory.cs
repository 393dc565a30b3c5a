namespace Tessera.Npu.Simulator;

/// <summary>A bounds-checked byte memory. DRAM can be large (4 GiB), so it is stored in 64 KiB pages allocated on first write.</summary>
public sealed class Memory(string name, long size)
{
    private const int PageBits = 16;
    private const int PageSize = 1 << PageBits;
    private readonly Dictionary<long, byte[]> _pages = [];

    public string Name { get; } = name;
    public long Size { get; } = size;

    /// <summary>Throws TSR0831 naming the memory and the range unless [addr, addr+len) lies inside.</summary>
    public void Check(long addr, long len, string who)
    {
        if (addr < 0 || len < 0 || addr + len > Size)
        {
            throw NpuCodes.Error(NpuCodes.SimOutOfBounds, who, $"{Name} access [0x{addr:x}, 0x{addr + len:x}) is outside {Name} [0, 0x{Size:x})");
        }
    }

    public Span<byte> Span(long addr, int len, string who)
    {
        Check(addr, len, who);
        long page = addr >> PageBits;
        int off = (int)(addr & (PageSize - 1));
        if (off + len <= PageSize)
        {
            return Page(page).AsSpan(off, len);
        }

        throw new InvalidOperationException("span crosses a page; use Read/Write");
    }

    private byte[] Page(long page)
    {
        if (!_pages.TryGetValue(page, out var p))
        {
            p = new byte[PageSize];
            _pages[page] = p;
        }

        return p;
    }

    public void Read(long addr, Span<byte> dest, string who)
    {
        Check(addr, dest.Length, who);
        int done = 0;
        while (done < dest.Length)
        {
            long a = addr + done;
            int off = (int)(a & (PageSize - 1));
            int n = Math.Min(dest.Length - done, PageSize - off);
            if (_pages.TryGetValue(a >> PageBits, out var p))
            {
                p.AsSpan(off, n).CopyTo(dest[done..]);
            }
            else
            {
                dest.Slice(done, n).Clear();
            }

            done += n;
        }
    }

    public void Write(long addr, ReadOnlySpan<byte> src, string who)
    {
        Check(addr, src.Length, who);
        int done = 0;
        while (done < src.Length)
        {
            long a = addr + done;
            int off = (int)(a & (PageSize - 1));
            int n = Math.Min(src.Length - done, PageSize - off);
            src.Slice(done, n).CopyTo(Page(a >> PageBits).AsSpan(off, n));
            done += n;
        }
    }

    public byte[] Read(long addr, int len, string who)
    {
        var b = new byte[len];
        Read(addr, b, who);
        return b;
    }
}
