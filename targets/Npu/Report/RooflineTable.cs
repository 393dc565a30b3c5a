using System.Globalization;
using System.Text;

namespace Tessera.Npu.Reports;

/// <summary>The roofline as a fixed-format text table (invariant culture), one row per layer and a total row.</summary>
public static class RooflineTable
{
    public static string Format(Roofline r)
    {
        var c = CultureInfo.InvariantCulture;
        var t = r.Target;
        var sb = new StringBuilder();
        var types = r.Rows.Select(x => x.Layer.ElementType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var peaks = string.Join(", ", types.Select(ty => string.Create(c, $"{ty} {Roofline.PeakMacsPerCycle(t, ty):0.###} MACs/cycle")));
        sb.Append(c, $"roofline on {t.Name} ({t.ClockGHz:0.###} GHz; peak {peaks}; DMA {Roofline.BytesPerCycle(t):0.###} bytes/cycle)\n");
        int w = Math.Max(5, r.Rows.Select(x => x.Layer.Name.Length).DefaultIfEmpty(0).Max());
        sb.Append(c, $"{"layer".PadRight(w)}  {"type",-4}  {"MACs",14}  {"DRAM bytes",12}  {"floor cycles",14}  {"bound",7}  {"sim cycles",12}  {"floor/sim",9}\n");
        foreach (var x in r.Rows)
        {
            var l = x.Layer;
            string bound = x.ComputeCycles >= x.MemoryCycles ? "compute" : "memory";
            sb.Append(c, $"{l.Name.PadRight(w)}  {l.ElementType,-4}  {l.Macs,14}  {l.MinDramBytes,12}  {x.FloorCycles,14:0.0}  {bound,7}  {l.SimulatedCycles,12}  {x.Ratio,9:0.000}\n");
        }

        sb.Append(c, $"{"total".PadRight(w)}  {"",-4}  {r.TotalMacs,14}  {r.TotalBytes,12}  {r.TotalFloor,14:0.0}  {"",7}  {r.TotalSimulated,12}  {r.TotalRatio,9:0.000}\n");
        return sb.ToString();
    }
}
