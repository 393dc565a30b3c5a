using Tessera.Npu.Target;

namespace Tessera.Npu.Reports;

/// <summary>One layer of a compiled model as the roofline report sees it: its name (the op's location), element type, MACs,
/// the least DRAM traffic it can have (each input, weight and output moved once) and the cycles the simulator took.</summary>
public sealed record RooflineLayer(string Name, string ElementType, long Macs, long MinDramBytes, long SimulatedCycles);

/// <summary>A layer with its floor: floor cycles = max(MACs ÷ peak MAC rate for the type, bytes ÷ DMA bytes per cycle).</summary>
public sealed record RooflineRow(RooflineLayer Layer, double PeakMacsPerCycle, double BytesPerCycle)
{
    public double ComputeCycles => Layer.Macs / PeakMacsPerCycle;
    public double MemoryCycles => Layer.MinDramBytes / BytesPerCycle;
    public double FloorCycles => Math.Max(ComputeCycles, MemoryCycles);

    /// <summary>Floor ÷ simulated: 1 means the layer runs at its roofline; never above 1 for a sound floor.</summary>
    public double Ratio => Layer.SimulatedCycles == 0 ? 0 : FloorCycles / Layer.SimulatedCycles;

    /// <summary>Arithmetic intensity, MACs per DRAM byte (the plot's x).</summary>
    public double Intensity => (double)Layer.Macs / Layer.MinDramBytes;

    /// <summary>Attained MACs per simulated cycle (the plot's y).</summary>
    public double Attained => Layer.SimulatedCycles == 0 ? 0 : (double)Layer.Macs / Layer.SimulatedCycles;

    /// <summary>The roofline at this layer's intensity: min(peak, intensity × bytes per cycle).</summary>
    public double Roof => Math.Min(PeakMacsPerCycle, Intensity * BytesPerCycle);
}

/// <summary>The per-layer roofline of one run on one target: today one layer per lowered matmul.</summary>
public sealed class Roofline
{
    public NpuTarget Target { get; }
    public IReadOnlyList<RooflineRow> Rows { get; }

    public Roofline(NpuTarget target, IEnumerable<RooflineLayer> layers)
    {
        Target = target;
        Rows = layers.Select(l => new RooflineRow(l, PeakMacsPerCycle(target, l.ElementType), BytesPerCycle(target))).ToList();
    }

    /// <summary>The matrix array's MACs per cycle: rows × cols for 8-bit integers, divided by floatRateDivisor for f16/bf16.</summary>
    public static double PeakMacsPerCycle(NpuTarget t, string type) =>
        (double)t.MatrixRows * t.MatrixCols / (type is "i8" or "i4" ? 1 : t.FloatRateDivisor);

    /// <summary>DRAM bytes per cycle: bandwidth (GB/s) ÷ clock (GHz).</summary>
    public static double BytesPerCycle(NpuTarget t) => (double)(t.DmaBandwidthGBps / t.ClockGHz);

    public long TotalMacs => Rows.Sum(r => r.Layer.Macs);
    public long TotalBytes => Rows.Sum(r => r.Layer.MinDramBytes);
    public double TotalFloor => Rows.Sum(r => r.FloorCycles);
    public long TotalSimulated => Rows.Sum(r => r.Layer.SimulatedCycles);
    public double TotalRatio => TotalSimulated == 0 ? 0 : TotalFloor / TotalSimulated;
}
