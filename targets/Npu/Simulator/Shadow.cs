namespace Tessera.Npu.Simulator;

/// <summary>Record of the last writer and, per queue, the last reader of each byte of one memory. An access by queue q
/// conflicts with an earlier access by another queue p unless that access happens-before it (its sequence number is covered by
/// q's vector clock, which only a semaphore wait advances). A conflict is a hazard: the run stops naming both instructions.
/// Bytes are kept as runs of equal state (a DMA row, a vector operand is one run), per 4 KiB page, so that a step streaming a
/// gigabyte of weights costs memory per run, not per byte; the answers are those of a per-byte record.</summary>
internal sealed class Shadow
{
    private const int Queues = 4;
    private const int PageBits = 12;
    private const int PageSize = 1 << PageBits;
    private readonly Dictionary<long, List<Run>> _pages = [];
    private readonly List<Run> _scratch = [];

    /// <summary>Checks then records an access; returns the id of a conflicting earlier access, or 0. <paramref name="at"/> is
    /// the lowest conflicting byte; on it the writer is named before readers, readers in queue order.</summary>
    public int Access(long addr, long len, bool write, int id, int queue, int[] clock, List<Exec> accesses, out long at)
    {
        int conflict = 0;
        at = -1;
        long end = addr + len;
        for (long a = addr; a < end;)
        {
            long page = a >> PageBits;
            int off = (int)(a & (PageSize - 1));
            int n = (int)Math.Min(end - a, PageSize - off);
            if (!_pages.TryGetValue(page, out var runs))
            {
                runs = [];
                _pages[page] = runs;
            }

            int found = Update(runs, off, off + n, write, id, queue, clock, accesses, conflict == 0, out int c);
            if (conflict == 0 && c != 0)
            {
                conflict = c;
                at = page << PageBits | (uint)found;
            }

            a += n;
        }

        return conflict;
    }

    /// <summary>Replaces the runs over [from, to) of one page with their updated states, checking each old state first.</summary>
    private int Update(List<Run> runs, int from, int to, bool write, int id, int queue, int[] clock, List<Exec> accesses, bool check, out int conflict)
    {
        conflict = 0;
        int at = -1;
        int first = FirstEndingAfter(runs, from), last = first;
        _scratch.Clear();
        for (int cur = from; cur < to;)
        {
            var old = last < runs.Count && runs[last].Start <= cur ? runs[last] : (Run?)null;
            int segEnd = old is { } o ? Math.Min(o.End, to) : Math.Min(last < runs.Count ? runs[last].Start : to, to);
            var state = old?.State ?? default;
            if (old is { } r && r.Start < cur)
            {
                _scratch.Add(r with { End = cur });
            }

            if (check && conflict == 0 && Conflict(state, write, queue, clock, accesses) is int c and not 0)
            {
                (conflict, at) = (c, cur);
            }

            Append(new Run(cur, segEnd, state.With(write, queue, id)));
            if (old is { } e)
            {
                if (e.End > segEnd)
                {
                    Append(e with { Start = segEnd });
                }

                last++;
            }

            cur = segEnd;
        }

        // Merge with the untouched neighbours too, so that a row written in pieces ends as one run.
        if (first > 0 && runs[first - 1].End == _scratch[0].Start && runs[first - 1].State == _scratch[0].State)
        {
            first--;
            _scratch[0] = _scratch[0] with { Start = runs[first].Start };
        }

        if (last < runs.Count && runs[last].Start == _scratch[^1].End && runs[last].State == _scratch[^1].State)
        {
            _scratch[^1] = _scratch[^1] with { End = runs[last].End };
            last++;
        }

        runs.RemoveRange(first, last - first);
        runs.InsertRange(first, _scratch);
        return at;
    }

    private void Append(Run r)
    {
        if (_scratch.Count > 0 && _scratch[^1].End == r.Start && _scratch[^1].State == r.State)
        {
            _scratch[^1] = _scratch[^1] with { End = r.End };
        }
        else
        {
            _scratch.Add(r);
        }
    }

    private static int FirstEndingAfter(List<Run> runs, int offset)
    {
        int lo = 0, hi = runs.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (runs[mid].End <= offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The bytes [Start, End) of a page, all with the same last writer and last readers.</summary>
    private readonly record struct Run(int Start, int End, State State);

    private static int Conflict(State s, bool write, int queue, int[] clock, List<Exec> accesses)
    {
        if (s.Writer != 0 && Unordered(accesses[s.Writer], queue, clock))
        {
            return s.Writer;
        }

        for (int q = 0; write && q < Queues; q++)
        {
            int r = s.Reader(q);
            if (q != queue && r != 0 && Unordered(accesses[r], queue, clock))
            {
                return r;
            }
        }

        return 0;
    }

    private static bool Unordered(Exec a, int queue, int[] clock) => a.Queue != queue && a.Seq > clock[a.Queue];

    /// <summary>Last writer and last reader per queue (execution ids; 0 = none).</summary>
    private readonly record struct State(int Writer, int R0, int R1, int R2, int R3)
    {
        public int Reader(int q) => q switch { 0 => R0, 1 => R1, 2 => R2, 3 => R3, _ => throw new ArgumentOutOfRangeException(nameof(q)) };

        public State With(bool write, int queue, int id) => write ? this with { Writer = id } : queue switch
        {
            0 => this with { R0 = id },
            1 => this with { R1 = id },
            2 => this with { R2 = id },
            3 => this with { R3 = id },
            _ => throw new ArgumentOutOfRangeException(nameof(queue)),
        };
    }
}

/// <summary>One executed instruction, for hazard checks and messages: its pc, its queue, its sequence number on that queue.</summary>
internal readonly record struct Exec(int Pc, int Queue, int Seq);
