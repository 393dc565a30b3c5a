using Tessera.Npu.Bundle;
using Tessera.Npu.Simulator;

namespace Tessera.Npu.Reports;

/// <summary>What the compiler knows of a layer before simulation: the step that runs it, its name (the op's location),
/// element type, useful MACs and least DRAM traffic (each distinct input, weight and output moved once).</summary>
public sealed record LayerSpec(string Step, string Name, string ElementType, long Macs, long MinDramBytes);

/// <summary>Runs a compiled bundle in the simulator, timing only (cycle counts do not depend on values, so no data moves and
/// host steps are skipped), and builds the roofline: one row per NPU layer, from that step's cycles.</summary>
public static class RooflineReport
{
    public static Roofline Build(NpuBundle bundle, IReadOnlyList<LayerSpec> layers)
    {
        var run = new BundleSession(bundle, timingOnly: true).Run(host: null);
        // A layer may take several steps: k7, then k7.1, k7.2, ...
        long Cycles(string step)
        {
            var parts = run.Steps.Where(s => s.Step.Name == step || s.Step.Name.StartsWith(step + ".", StringComparison.Ordinal)).ToList();
            return parts.Count > 0 ? parts.Sum(s => s.Cycles) : throw NpuCodes.Error(NpuCodes.BundleBad, step, $"the bundle has no step {step}");
        }

        var rows = layers.Select(l => new RooflineLayer(l.Name, l.ElementType, l.Macs, l.MinDramBytes, Cycles(l.Step))).ToList();
        return new Roofline(bundle.Target, rows);
    }
}
