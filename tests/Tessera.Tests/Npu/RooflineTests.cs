using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;

namespace Tessera.Tests.Npu;

/// <summary>
/// <c>tessera compile --target npu --report roofline --report-svg</c>: the table's floor is recomputed here from the target
/// JSON file alone (MACs ÷ (rows·cols ÷ floatRateDivisor) against bytes ÷ (bandwidth ÷ clock)); floor ÷ simulated ≤ 1; the
/// SVG parses, has the roof polyline and one point per layer, and the point sits under the roof at the height its table
/// numbers give (measured in the plot's own decade spacing).
/// </summary>
public class RooflineTests
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private static string MatmulTir(int m, int n, int k) =>
        $"func.func @mm(%a: tensor<{m}x{k}xf16>, %b: tensor<{k}x{n}xf16>) -> tensor<{m}x{n}xf16> {{\n" +
        $"  %c = graph.mat_mul(%a, %b) : (tensor<{m}x{k}xf16>, tensor<{k}x{n}xf16>) -> tensor<{m}x{n}xf16>\n" +
        $"  func.return(%c) : tensor<{m}x{n}xf16>\n}}\n";

    /// <summary>(peak f16 MACs per cycle, DRAM bytes per cycle), read straight from the JSON file.</summary>
    private static (double Peak, double BytesPerCycle) FromJson(string config)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "targets/Npu/configs", config + ".json")));
        var root = doc.RootElement;
        var mx = root.GetProperty("matrix");
        double peak = mx.GetProperty("rows").GetDouble() * mx.GetProperty("cols").GetDouble() / mx.GetProperty("floatRateDivisor").GetDouble();
        double bpc = root.GetProperty("dma").GetProperty("bandwidthGBps").GetDouble() / root.GetProperty("clockGHz").GetDouble();
        return (peak, bpc);
    }

    [Theory]
    [InlineData("e1", 64, 512, 256)]
    [InlineData("edge-large", 128, 1024, 512)]
    [InlineData("e1", 8, 64, 2048)]
    public void TableAndPlotMatchTheTargetFile(string config, int m, int n, int k)
    {
        var dir = Path.Combine(Path.GetTempPath(), "npu-roofline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var tir = Path.Combine(dir, "mm.tir");
        var svgPath = Path.Combine(dir, "roofline.svg");
        File.WriteAllText(tir, MatmulTir(m, n, k));
        var (code, text) = NpuTestUtil.RunCli(["compile", tir, "--target", "npu", "--target-config", config, "-o", Path.Combine(dir, "b"), "--report", "roofline", "--report-svg", svgPath]);
        Assert.True(code == 0, text);

        // The table: header, one row for the matmul (named by its location), the total row.
        var lines = text.Split('\n');
        string[] Row(string first) => lines.Single(l => l.StartsWith(first, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("roofline on " + config + " ", StringComparison.Ordinal));
        var row = Row("mm.tir:2:");
        var total = Row("total");
        long macs = (long)m * n * k, bytes = 2L * ((m * k) + (k * n) + (m * n));
        var (peak, bpc) = FromJson(config);
        double floor = Math.Max(macs / peak, bytes / bpc);
        Assert.Equal("f16", row[1]);
        Assert.Equal(macs, long.Parse(row[2], C));
        Assert.Equal(bytes, long.Parse(row[3], C));
        Assert.Equal(floor, double.Parse(row[4], C), 0.05);
        Assert.Equal(macs / peak >= bytes / bpc ? "compute" : "memory", row[5]);
        long sim = long.Parse(row[6], C);
        double ratio = double.Parse(row[7], C);
        Assert.True(sim > 0);
        Assert.Equal(floor / sim, ratio, 0.0005);
        Assert.True(ratio <= 1, $"floor {floor} above simulated {sim}");
        Assert.Equal(row[2..5].Concat(row[6..]), total[1..]);

        // The plot.
        var svg = XDocument.Load(svgPath);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Contains(config, svg.Descendants(ns + "text").First().Value);
        var roof = svg.Descendants(ns + "polyline").Single(e => (string?)e.Attribute("class") == "roofline");
        var pts = ((string)roof.Attribute("points")!).Split(' ').Select(p => p.Split(',').Select(v => double.Parse(v, C)).ToArray()).ToArray();
        Assert.Equal(3, pts.Length); // two segments: the bandwidth slope and the flat peak
        Assert.Equal(pts[1][1], pts[2][1]);
        Assert.True(pts[0][1] > pts[1][1]);
        var layers = svg.Descendants(ns + "circle").Where(e => (string?)e.Attribute("class") == "layer").ToList();
        var pt = Assert.Single(layers);
        Assert.Equal((double)macs / bytes, double.Parse((string)pt.Attribute("data-intensity")!, C), 1e-9);
        Assert.Equal((double)macs / sim, double.Parse((string)pt.Attribute("data-attained")!, C), 1e-9);
        double cx = double.Parse((string)pt.Attribute("cx")!, C), cy = double.Parse((string)pt.Attribute("cy")!, C);

        // Under the roof at its x (SVG y grows downwards; the roof is straight between its points in log-log).
        int seg = cx <= pts[1][0] ? 0 : 1;
        double roofY = pts[seg][1] + ((cx - pts[seg][0]) / (pts[seg + 1][0] - pts[seg][0]) * (pts[seg + 1][1] - pts[seg][1]));
        Assert.True(cy >= roofY - 0.01, $"point y {cy} above the roof {roofY}");

        // And as far under it as the table says: log10(roof ÷ attained) decades, decade spacing from the y ticks.
        var ticks = svg.Descendants(ns + "line").Where(e => (string?)e.Attribute("class") == "ytick").Select(e => double.Parse((string)e.Attribute("y1")!, C)).ToList();
        double decade = Math.Abs(ticks[1] - ticks[0]);
        double intensity = (double)macs / bytes;
        double roofAtX = Math.Min(peak, intensity * bpc);
        Assert.Equal(Math.Log10(roofAtX / ((double)macs / sim)) * decade, cy - roofY, 0.05);
        Assert.Equal(Math.Log10(peak * sim / macs) * decade, cy - pts[1][1], 0.05);
    }

    [Fact]
    public void ReportFlagsAreChecked()
    {
        var dir = Path.Combine(Path.GetTempPath(), "npu-roofline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var tir = Path.Combine(dir, "mm.tir");
        File.WriteAllText(tir, MatmulTir(16, 32, 32));
        var (code, text) = NpuTestUtil.RunCli(["compile", tir, "--target", "npu", "-o", Path.Combine(dir, "b"), "--report", "speed"]);
        Assert.Equal(1, code);
        Assert.Contains("--report speed is not supported", text);
        (code, text) = NpuTestUtil.RunCli(["compile", tir, "--target", "npu", "-o", Path.Combine(dir, "b"), "--report-svg", Path.Combine(dir, "r.svg")]);
        Assert.Equal(1, code);
        Assert.Contains("--report-svg needs --report roofline", text);
        (code, text) = NpuTestUtil.RunCli(["compile", tir, "--report", "roofline"]);
        Assert.Equal(1, code);
        Assert.Contains("with --target npu", text);
    }

    [Fact]
    public void RepeatedLayersShareALabelAndNoLabelsOverlap()
    {
        // 24 layers at one point (a model's repeated FFN matmul), 24 at another close by, and two lone layers near them.
        var layers = Enumerable.Range(0, 24).Select(i => new Tessera.Npu.Reports.RooflineLayer($"graph.gemm#{i}", "f16", 1_000_000_000, 20_000_000, 4_100_000))
            .Concat(Enumerable.Range(0, 24).Select(i => new Tessera.Npu.Reports.RooflineLayer($"graph.gemm#{100 + i}", "f16", 100_000_000, 4_000_000, 500_000 + i)))
            .Append(new Tessera.Npu.Reports.RooflineLayer("graph.sdpa#7", "f16", 100_000_000, 3_900_000, 900_000))
            .Append(new Tessera.Npu.Reports.RooflineLayer("graph.sdpa#8", "f16", 100_000_000, 3_800_000, 1_000_000));
        var svg = XDocument.Parse(Tessera.Npu.Reports.RooflineSvg.Render(new Tessera.Npu.Reports.Roofline(NpuTestUtil.E1, layers)));
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(50, svg.Descendants(ns + "circle").Count());
        var labels = svg.Descendants(ns + "text").Where(e => (string?)e.Attribute("class") == "label").ToList();
        Assert.Contains(labels, l => l.Value.StartsWith("graph.gemm ×24 (floor/sim", StringComparison.Ordinal));
        Assert.True(labels.Count <= 4, string.Join(" | ", labels.Select(l => l.Value)));
        // Boxes from the text itself: 7 px per character (wider than the 12 px sans-serif glyphs), 12 px tall.
        var boxes = labels.Select(l =>
        {
            double x = double.Parse((string)l.Attribute("x")!, C), y = double.Parse((string)l.Attribute("y")!, C), w = 7 * l.Value.Length;
            double left = (string?)l.Attribute("text-anchor") == "end" ? x - w : x;
            return (L: left, R: left + w, T: y - 12, B: y);
        }).ToList();
        for (int i = 0; i < boxes.Count; i++)
        {
            for (int j = i + 1; j < boxes.Count; j++)
            {
                bool overlap = boxes[i].L < boxes[j].R && boxes[j].L < boxes[i].R && boxes[i].T < boxes[j].B && boxes[j].T < boxes[i].B;
                Assert.False(overlap, $"labels '{labels[i].Value}' and '{labels[j].Value}' overlap");
            }
        }
    }
}
