using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Decides where each op of a function runs when it is compiled for the NPU (<see cref="NpuPlacement"/>) and records it
/// as <c>npu.place</c> = "npu" | "alias" | "host", with <c>npu.reason</c> on host ops. The emitter follows these
/// attributes, and <c>tessera compile</c> reports the host ops with their reasons. Statistics: num-npu, num-alias, num-host.
/// </summary>
public sealed class NpuPartitionPass : Pass
{
    public override string Flag => "npu-partition";
    public override string Summary => "places each op on the NPU, as a DRAM alias, or on the host (with the reason)";
    public override string? AnchorOp => "func.func";

    public override PassResult Run(Operation op, PassContext context)
    {
        if (op.Regions.Count != 1 || op.Regions[0].Blocks.Count == 0)
        {
            return PassResult.Unchanged;
        }

        bool changed = false;
        var counts = new Dictionary<string, long>(StringComparer.Ordinal) { [NpuPlacement.Npu] = 0, [NpuPlacement.Alias] = 0, [NpuPlacement.Host] = 0 };
        foreach (var inner in op.Regions[0].Blocks.SelectMany(b => b.Operations).ToList())
        {
            if (inner.Name is "arith.constant" or "func.return" or "graph.none")
            {
                continue;
            }

            var (place, reason) = NpuPlacement.Classify(inner);
            counts[place]++;
            changed |= Set(inner, NpuPlacement.PlaceAttr, new StringAttr(place));
            if (reason is not null)
            {
                changed |= Set(inner, NpuPlacement.ReasonAttr, new StringAttr(reason));
            }
            else if (inner.GetAttr(NpuPlacement.ReasonAttr) is not null)
            {
                inner.RemoveAttr(NpuPlacement.ReasonAttr);
                changed = true;
            }
        }

        foreach (var (k, v) in counts)
        {
            Count("num-" + k, v);
        }

        return changed ? PassResult.Changed : PassResult.Unchanged;
    }

    private static bool Set(Operation op, string name, Attribute value)
    {
        if (op.GetAttr(name) == value)
        {
            return false;
        }

        op.SetAttr(name, value);
        return true;
    }
}
