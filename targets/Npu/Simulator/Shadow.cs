namespace Tessera.Npu.Simulator;

/// <summary>Per-byte record of the last writer and, per queue, the last reader of each byte of one memory. An access by queue q
/// conflicts with an earlier access by another queue p unless that access happens-before it (its sequence number is covered by
/// q's vector clock, which only a semaphore wait advances). A conflict is a hazard: the run stops naming both instructions.</summary>
internal sealed class Shadow(string memory, int queues)
{
    private const int PageBits = 12;
    private readonly Dictionary<long, int[][]> _pages = [];

    public string Memory { get; } = memory;

    /// <summary>Checks then records an access; returns the id of a conflicting earlier access, or 0.</summary>
    public int Access(long addr, long len, bool write, int id, int queue, int[] clock, List<Exec> accesses, out long at)
    {
        int conflict = 0;
        at = -1;
        long end = addr + len;
        for (long a = addr; a < end;)
        {
            long page = a >> PageBits;
            int off = (int)(a & ((1 << PageBits) - 1));
            int n = (int)Math.Min(end - a, (1 << PageBits) - off);
            if (!_pages.TryGetValue(page, out var p))
            {
                p = new int[queues + 1][];
                for (int i = 0; i <= queues; i++)
                {
                    p[i] = new int[1 << PageBits];
                }

                _pages[page] = p;
            }

            var writers = p[queues];
            for (int i = off; i < off + n; i++)
            {
                int w = writers[i];
                if (w != 0 && conflict == 0 && Unordered(accesses[w], queue, clock))
                {
                    conflict = w;
                    at = page << PageBits | (uint)i;
                }

                if (write)
                {
                    for (int q = 0; q < queues && conflict == 0; q++)
                    {
                        int r = p[q][i];
                        if (q != queue && r != 0 && Unordered(accesses[r], queue, clock))
                        {
                            conflict = r;
                            at = page << PageBits | (uint)i;
                        }
                    }

                    writers[i] = id;
                }
                else
                {
                    p[queue][i] = id;
                }
            }

            a += n;
        }

        return conflict;
    }

    private static bool Unordered(Exec a, int queue, int[] clock) => a.Queue != queue && a.Seq > clock[a.Queue];
}

/// <summary>One executed instruction, for hazard checks and messages: its pc, its queue, its sequence number on that queue.</summary>
internal readonly record struct Exec(int Pc, int Queue, int Seq);
