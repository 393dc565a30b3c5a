using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Npu.Target;

namespace Tessera.Npu.Simulator;

/// <summary>The Chrome/Perfetto trace (one thread per queue, timestamps in µs at the target clock) and the text summary.</summary>
public static class Report
{
    /// <summary>
    /// Trace time of cycle 0, in µs. Not 0: Chrome DevTools' Performance panel leaves events at <c>ts</c> 0 out when it
    /// sizes the timeline, which hid the first instruction. Every viewer shows time from the trace's first event.
    /// </summary>
    public const decimal TraceOriginUs = 1;

    public static string TraceJson(SimResult r, NpuTarget t, IReadOnlyList<string>? text = null)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false }))
        {
            decimal cyclesPerUs = t.ClockGHz * 1000m;
            double Us(long cycle) => (double)(TraceOriginUs + cycle / cyclesPerUs);
            w.WriteStartObject();
            w.WriteString("displayTimeUnit", "ns");
            w.WriteStartArray("traceEvents");
            Meta(w, "process_name", 0, $"npu {t.Name}");
            for (int q = 0; q < 4; q++)
            {
                Meta(w, "thread_name", q + 1, Machine.QueueName(q) + " queue");
                Meta(w, "thread_sort_index", q + 1, null, q + 1);   // tracks in queue order, not by event count
            }

            foreach (var e in r.Trace ?? [])
            {
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("cat", Machine.QueueName(e.Queue));
                w.WriteString("ph", "X");
                // Viewers add ts + dur in doubles; a sum one ulp past the next span's ts makes the two overlap without
                // nesting, and DevTools then drops a span. Round dur down so that ts + dur never passes the end.
                double ts = Us(e.Start), end = Us(e.Start + e.Cycles), dur = (double)(e.Cycles / cyclesPerUs);
                while (dur > 0 && ts + dur > end)
                {
                    dur = Math.BitDecrement(dur);
                }

                w.WriteNumber("ts", ts);
                w.WriteNumber("dur", dur);
                w.WriteNumber("pid", 1);
                w.WriteNumber("tid", e.Queue + 1);
                w.WriteStartObject("args");
                w.WriteNumber("pc", e.Pc);
                w.WriteNumber("start_cycle", e.Start);
                w.WriteNumber("cycles", e.Cycles);
                if (text is not null)
                {
                    w.WriteString("instruction", text[e.Pc]);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void Meta(Utf8JsonWriter w, string kind, int tid, string? name, int sortIndex = 0)
    {
        w.WriteStartObject();
        w.WriteString("name", kind);
        w.WriteString("ph", "M");
        w.WriteNumber("pid", 1);
        w.WriteNumber("tid", tid);
        w.WriteStartObject("args");
        if (name is null)
        {
            w.WriteNumber("sort_index", sortIndex);
        }
        else
        {
            w.WriteString("name", name);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static string Summary(SimResult r, NpuTarget t)
    {
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"target {t.Name}: {r.Cycles} cycles ({r.Cycles / (double)(t.ClockGHz * 1000m):0.###} us at {t.ClockGHz} GHz)\n");
        for (int q = 0; q < 4; q++)
        {
            sb.Append(c, $"  {Machine.QueueName(q),-6} queue: {r.Instructions[q],8} instructions, {r.Busy[q],10} busy cycles, utilisation {100 * r.Utilisation(q):0.0}%\n");
        }

        long peak = (long)t.MatrixRows * t.MatrixCols;
        sb.Append(c, $"  MACs {r.Macs} ({(r.Cycles == 0 ? 0 : 100.0 * r.Macs / (peak * r.Cycles)):0.0}% of the int8 peak {peak}/cycle)\n");
        sb.Append(c, $"  DRAM bytes read {r.DramRead}, written {r.DramWritten}\n");
        return sb.ToString();
    }
}
