using Tessera.Npu.Bundle;
using Tessera.Npu.Simulator;

namespace Tessera.Npu.Reports;

/// <summary>What the compiler knows of a layer before simulation: its name (the op's location) and its useful MACs.</summary>
public sealed record LayerSpec(string Name, long Macs);

/// <summary>Runs a bundle in the simulator with zero inputs and weights (cycle counts do not depend on values) and builds
/// the roofline. Today a bundle holds one lowered matmul, so the whole run is its one layer and the layer's minimum DRAM
/// traffic is every tensor of the bundle (inputs, weights, output) moved once; per-layer cycle spans come with whole models.</summary>
public static class RooflineReport
{
    public static Roofline Build(NpuBundle bundle, IReadOnlyList<LayerSpec> layers)
    {
        if (layers.Count != 1)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, bundle.Target.Name, $"the roofline report handles one layer per bundle so far, not {layers.Count}");
        }

        var session = new Session(bundle.Program, bundle.Target);
        var result = session.Run();
        var tensors = bundle.Program.Tensors;
        string type = tensors.FirstOrDefault(t => t.Role == "output")?.Type ?? tensors[0].Type;
        long bytes = tensors.Sum(t => t.Bytes);
        return new Roofline(bundle.Target, [new RooflineLayer(layers[0].Name, type, layers[0].Macs, bytes, result.Cycles)]);
    }
}
