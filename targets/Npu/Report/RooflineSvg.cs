using System.Globalization;
using System.Security;
using System.Text;

namespace Tessera.Npu.Reports;

/// <summary>The roofline as an SVG plot: log-log axes, arithmetic intensity (MACs per DRAM byte) on x, attained MACs per cycle
/// on y; the roof min(peak, intensity × bytes per cycle) as a polyline of two segments per element type (id roofline-TYPE);
/// one labelled circle (class layer, data-intensity and data-attained) per layer. Coordinates use fixed formats.</summary>
public static class RooflineSvg
{
    public const int Width = 760, Height = 520;
    private const double Left = 80, Right = 30, Top = 50, Bottom = 60;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The plot's axes: decades enclosing every point, the ridge, and a decade either side of it.</summary>
    public sealed record Axes(double XMin, double XMax, double YMin, double YMax)
    {
        public double X(double v) => Left + ((Math.Log10(v) - Math.Log10(XMin)) / (Math.Log10(XMax) - Math.Log10(XMin)) * (Width - Left - Right));
        public double Y(double v) => Height - Bottom - ((Math.Log10(v) - Math.Log10(YMin)) / (Math.Log10(YMax) - Math.Log10(YMin)) * (Height - Top - Bottom));
    }

    public static Axes AxesFor(Roofline r)
    {
        double bpc = Roofline.BytesPerCycle(r.Target);
        var peaks = r.Rows.Select(x => x.PeakMacsPerCycle).DefaultIfEmpty(Roofline.PeakMacsPerCycle(r.Target, "f16")).ToList();
        var xs = r.Rows.Select(x => x.Intensity).Concat(peaks.Select(p => p / bpc / 10)).Concat(peaks.Select(p => p / bpc * 10)).ToList();
        double xmin = Decade(xs.Min(), floor: true), xmax = Decade(xs.Max(), floor: false);
        var ys = r.Rows.Select(x => x.Attained).Where(v => v > 0).Concat(peaks).Append(xmin * bpc).ToList();
        double ymin = Decade(ys.Min(), floor: true), ymax = Decade(peaks.Max() * 1.5, floor: false);
        return new Axes(xmin, xmax, ymin, ymax);
    }

    private static double Decade(double v, bool floor) => Math.Pow(10, floor ? Math.Floor(Math.Log10(v)) : Math.Ceiling(Math.Log10(v)));

    private static string F(double v) => v.ToString("0.##", C);

    private static string Num(double v) => v >= 1e5 || v < 1e-3 ? v.ToString("0E0", C) : v.ToString("0.###", C);

    public static string Render(Roofline r)
    {
        // A layer without MACs (a norm, a transpose) has intensity 0, which has no place on a log axis: the table lists it.
        r = new Roofline(r.Target, r.Rows.Where(x => x.Layer.Macs > 0).Select(x => x.Layer));
        var a = AxesFor(r);
        double bpc = Roofline.BytesPerCycle(r.Target);
        var sb = new StringBuilder();
        sb.Append(C, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(C, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        var types = string.Join(", ", r.Rows.Select(x => x.Layer.ElementType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        sb.Append(C, $"<text x=\"{Width / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">Roofline: NPU target {Esc(r.Target.Name)}{(types.Length > 0 ? " (" + types + ")" : "")}</text>\n");

        // Grid and ticks, one per decade; faint minor lines at 2..9.
        double x0 = a.X(a.XMin), x1 = a.X(a.XMax), y0 = a.Y(a.YMin), y1 = a.Y(a.YMax);
        for (double d = a.XMin; d <= a.XMax * 1.0001; d *= 10)
        {
            for (int m = 2; m < 10 && d * m < a.XMax; m++)
            {
                sb.Append(C, $"<line x1=\"{F(a.X(d * m))}\" y1=\"{F(y0)}\" x2=\"{F(a.X(d * m))}\" y2=\"{F(y1)}\" stroke=\"#f0f0f0\"/>\n");
            }

            sb.Append(C, $"<line class=\"xtick\" x1=\"{F(a.X(d))}\" y1=\"{F(y0)}\" x2=\"{F(a.X(d))}\" y2=\"{F(y1)}\" stroke=\"#d8d8d8\"/>\n");
            sb.Append(C, $"<text x=\"{F(a.X(d))}\" y=\"{F(y0 + 18)}\" text-anchor=\"middle\">{Num(d)}</text>\n");
        }

        for (double d = a.YMin; d <= a.YMax * 1.0001; d *= 10)
        {
            for (int m = 2; m < 10 && d * m < a.YMax; m++)
            {
                sb.Append(C, $"<line x1=\"{F(x0)}\" y1=\"{F(a.Y(d * m))}\" x2=\"{F(x1)}\" y2=\"{F(a.Y(d * m))}\" stroke=\"#f0f0f0\"/>\n");
            }

            sb.Append(C, $"<line class=\"ytick\" x1=\"{F(x0)}\" y1=\"{F(a.Y(d))}\" x2=\"{F(x1)}\" y2=\"{F(a.Y(d))}\" stroke=\"#d8d8d8\"/>\n");
            sb.Append(C, $"<text x=\"{F(x0 - 8)}\" y=\"{F(a.Y(d) + 4)}\" text-anchor=\"end\">{Num(d)}</text>\n");
        }

        sb.Append(C, $"<rect x=\"{F(x0)}\" y=\"{F(y1)}\" width=\"{F(x1 - x0)}\" height=\"{F(y0 - y1)}\" fill=\"none\" stroke=\"black\"/>\n");
        sb.Append(C, $"<text x=\"{F((x0 + x1) / 2)}\" y=\"{Height - 16}\" text-anchor=\"middle\">arithmetic intensity (MACs per DRAM byte)</text>\n");
        sb.Append(C, $"<text x=\"20\" y=\"{F((y0 + y1) / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {F((y0 + y1) / 2)})\">attained MACs per cycle</text>\n");

        // One roof per element type: up the bandwidth slope to the ridge, then flat at the peak.
        foreach (var g in r.Rows.GroupBy(x => x.Layer.ElementType).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            double peak = g.First().PeakMacsPerCycle, ridge = peak / bpc;
            double sx = Math.Max(a.XMin, a.YMin / bpc);
            sb.Append(C, $"<polyline id=\"roofline-{Esc(g.Key)}\" class=\"roofline\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2.5\" points=\"{F(a.X(sx))},{F(a.Y(sx * bpc))} {F(a.X(ridge))},{F(a.Y(peak))} {F(x1)},{F(a.Y(peak))}\"/>\n");
            sb.Append(C, $"<text x=\"{F(a.X(ridge) + 8)}\" y=\"{F(a.Y(peak) - 8)}\" fill=\"#1f5fbf\">{Esc(g.Key)} peak {Num(peak)} MACs/cycle</text>\n");
            double mx = Math.Sqrt(sx * ridge);
            double angle = -Math.Atan2(a.Y(sx * bpc) - a.Y(ridge * bpc), a.X(ridge) - a.X(sx)) * 180 / Math.PI;
            sb.Append(C, $"<text x=\"{F(a.X(mx) - 6)}\" y=\"{F(a.Y(mx * bpc) - 8)}\" text-anchor=\"middle\" fill=\"#1f5fbf\" transform=\"rotate({F(angle)} {F(a.X(mx) - 6)} {F(a.Y(mx * bpc) - 8)})\">DMA {Num(bpc)} bytes/cycle</text>\n");
        }

        foreach (var x in r.Rows)
        {
            double px = a.X(x.Intensity), py = a.Y(Math.Max(x.Attained, a.YMin));
            sb.Append(C, $"<circle class=\"layer\" cx=\"{F(px)}\" cy=\"{F(py)}\" r=\"5\" fill=\"#d9480f\" data-name=\"{Esc(x.Layer.Name)}\" data-intensity=\"{x.Intensity.ToString("R", C)}\" data-attained=\"{x.Attained.ToString("R", C)}\"/>\n");
        }

        Labels(sb, r, a, x1, y0, y1);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>
    /// One label per cluster of points of one op that lie within a few pixels of each other (a model repeats its layers:
    /// "graph.gemm ×24 (floor/sim 0.94–0.97)"), placed just below and beside its points and moved down, or up, until it
    /// overlaps no label placed before it; a label moved away from its points gets a leader line.
    /// </summary>
    private static void Labels(StringBuilder sb, Roofline r, Axes a, double x1, double y0, double y1)
    {
        const double LineHeight = 14, CharWidth = 6.6, Near = 8;
        var clusters = new List<(string Op, double X, double Y, List<RooflineRow> Rows)>();
        foreach (var x in r.Rows)
        {
            double px = a.X(x.Intensity), py = a.Y(Math.Max(x.Attained, a.YMin));
            string op = x.Layer.Name.Contains('#', StringComparison.Ordinal) ? x.Layer.Name[..x.Layer.Name.IndexOf('#', StringComparison.Ordinal)] : x.Layer.Name;
            int k = clusters.FindIndex(c => c.Op == op && Math.Abs(c.X - px) <= Near && Math.Abs(c.Y - py) <= Near);
            if (k < 0)
            {
                clusters.Add((op, px, py, [x]));
            }
            else
            {
                clusters[k].Rows.Add(x);
            }
        }

        // The points and the roofs' peak labels are taken: a label covers neither.
        var placed = clusters.SelectMany(c => c.Rows.Select(x => (L: a.X(x.Intensity) - 6, T: a.Y(Math.Max(x.Attained, a.YMin)) - 6, R: a.X(x.Intensity) + 6, B: a.Y(Math.Max(x.Attained, a.YMin)) + 6))).ToList();
        double bpc = Roofline.BytesPerCycle(r.Target);
        foreach (var g in r.Rows.GroupBy(x => x.Layer.ElementType))
        {
            double peak = g.First().PeakMacsPerCycle, lx = a.X(peak / bpc) + 8, ly = a.Y(peak) - 8;
            placed.Add((lx, ly - LineHeight, lx + (CharWidth * $"{g.Key} peak {Num(peak)} MACs/cycle".Length), a.Y(peak) + 2));
        }

        foreach (var c in clusters.OrderBy(c => c.Y).ThenBy(c => c.X))
        {
            double lo = c.Rows.Min(x => x.Ratio), hi = c.Rows.Max(x => x.Ratio);
            string ratio = Math.Round(lo, 3) == Math.Round(hi, 3) ? lo.ToString("0.000", C) : $"{lo.ToString("0.000", C)}–{hi.ToString("0.000", C)}";
            string label = c.Rows.Count == 1 ? $"{c.Rows[0].Layer.Name} (floor/sim {ratio})" : $"{c.Op} ×{c.Rows.Count} (floor/sim {ratio})";
            double w = CharWidth * label.Length;
            // Left of the points when the right side would run off the plot.
            bool left = c.X + 10 + w > x1;
            double l = left ? c.X - 10 - w : c.X + 10;
            // Below the points first: they sit on or under the roof, whose labels are above it.
            double top = FreeSlot(placed, l, l + w, c.Y + 4, LineHeight, y1, y0);
            placed.Add((l, top, l + w, top + LineHeight));
            double baseline = top + LineHeight - 3;
            if (Math.Abs(top + (LineHeight / 2) - c.Y) > LineHeight)
            {
                sb.Append(C, $"<line class=\"leader\" x1=\"{F(c.X)}\" y1=\"{F(c.Y)}\" x2=\"{F(left ? l + w : l)}\" y2=\"{F(top + (LineHeight / 2))}\" stroke=\"#e8a27c\"/>\n");
            }

            sb.Append(C, $"<text class=\"label\" x=\"{F(left ? l + w : l)}\" y=\"{F(baseline)}\" text-anchor=\"{(left ? "end" : "start")}\" fill=\"#d9480f\">{Esc(label)}</text>\n");
        }
    }

    /// <summary>The top of the first box of <paramref name="h"/> at or below <paramref name="top"/> (else above it) that
    /// overlaps none of <paramref name="placed"/> between columns <paramref name="l"/>..<paramref name="rr"/>, kept inside
    /// [<paramref name="min"/>, <paramref name="max"/>].</summary>
    private static double FreeSlot(List<(double L, double T, double R, double B)> placed, double l, double rr, double top, double h, double min, double max)
    {
        bool Free(double t) => t >= min && t + h <= max && !placed.Any(p => p.L < rr && l < p.R && p.T < t + h && t < p.B);
        for (double t = top; t + h <= max; t += h / 2)
        {
            if (Free(t))
            {
                return t;
            }
        }

        for (double t = top - (h / 2); t >= min; t -= h / 2)
        {
            if (Free(t))
            {
                return t;
            }
        }

        return Math.Clamp(top, min, max - h);
    }

    private static string Esc(string s) => SecurityElement.Escape(s);
}
