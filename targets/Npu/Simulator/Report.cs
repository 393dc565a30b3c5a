using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Npu.Target;

namespace Tessera.Npu.Simulator;

/// <summary>The Chrome/Perfetto trace (one thread per queue, timestamps in µs at the target clock) and the text summary.</summary>
public static class Report
{
    public static string TraceJson(SimResult r, NpuTarget t, IReadOnlyList<string>? text = null)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false }))
        {
            double usPerCycle = (double)(1m / (t.ClockGHz * 1000m));
            w.WriteStartObject();
            w.WriteString("displayTimeUnit", "ns");
            w.WriteStartArray("traceEvents");
            Meta(w, "process_name", 0, $"npu {t.Name}");
            for (int q = 0; q < 4; q++)
            {
                Meta(w, "thread_name", q + 1, Machine.QueueName(q) + " queue");
            }

            foreach (var e in r.Trace ?? [])
            {
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("cat", Machine.QueueName(e.Queue));
                w.WriteString("ph", "X");
                w.WriteNumber("ts", e.Start * usPerCycle);
                w.WriteNumber("dur", e.Cycles * usPerCycle);
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

    private static void Meta(Utf8JsonWriter w, string kind, int tid, string name)
    {
        w.WriteStartObject();
        w.WriteString("name", kind);
        w.WriteString("ph", "M");
        w.WriteNumber("pid", 1);
        w.WriteNumber("tid", tid);
        w.WriteStartObject("args");
        w.WriteString("name", name);
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
