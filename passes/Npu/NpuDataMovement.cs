using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// What slice and pad need to run as DMA (npu-move-to-tile writes them as tile.dispatch moves of strided or padded
/// views): bounds, pads and pad values known at compile time, because DMA addresses and descriptors are. Works for any
/// element type the bundle stores.
/// </summary>
public static class NpuDataMovement
{
    /// <summary>Null when the op lowers to DMA copies; otherwise why it stays on the host.</summary>
    public static string? Reason(Operation op)
    {
        if (op.Results.Cast<Value>().Concat(op.Operands.Take(op.Name == "graph.concat" ? op.NumOperands : 1).Select(v => v!)).Any(v => NpuPlacement.ElementBytes(v.Type) == 0))
        {
            return "an element type the NPU's DRAM does not hold";
        }

        return op.Name == "graph.slice" && Slice(op) is null
            ? "slice bounds computed at run time (NPU DMA addresses are fixed at compile time)"
            : null;
    }

    /// <summary>Per-dim start and step of a slice whose bounds are constants (clamped as ONNX Slice does), or null
    /// when they are not constants or do not give the result's shape.</summary>
    public static (long[] Start, long[] Step)? Slice(Operation op)
    {
        var x = NpuPlacement.Shape(op.Operand(0));
        int r = x.Length;
        long[]? starts, ends, axes, steps;
        if (op.GetAttr("starts") is not null)
        {
            (starts, ends, axes, steps) = (Ints(op.GetAttr("starts")), Ints(op.GetAttr("ends")), Ints(op.GetAttr("axes")), null);
        }
        else
        {
            starts = Const(op, 1);
            ends = Const(op, 2);
            axes = op.NumOperands > 3 && op.Operand(3).DefiningOp?.Name != "graph.none" ? Const(op, 3) ?? [-1000] : null;
            steps = op.NumOperands > 4 && op.Operand(4).DefiningOp?.Name != "graph.none" ? Const(op, 4) ?? [0] : null;
        }

        if (starts is null || ends is null || ends.Length != starts.Length)
        {
            return null;
        }

        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (axes.Length != starts.Length || steps.Length != starts.Length)
        {
            return null;
        }

        var st = new long[r];
        var step = Enumerable.Repeat(1L, r).ToArray();
        var shape = (long[])x.Clone();
        for (int i = 0; i < starts.Length; i++)
        {
            long a = axes[i] < 0 ? axes[i] + r : axes[i];
            if (a < 0 || a >= r || steps[i] == 0)
            {
                return null;
            }

            int d = (int)a;
            long dim = x[d], s = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i], p = steps[i];
            if (p > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
                shape[d] = e > s ? ((e - s - 1) / p) + 1 : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                shape[d] = s > e ? ((s - e - 1) / -p) + 1 : 0;
            }

            (st[d], step[d]) = (s, p);
        }

        return shape.SequenceEqual(NpuPlacement.Shape(op.Result(0))) ? (st, step) : null;
    }

    /// <summary>A constant pad of at most one axis as the DMA does it (a padded load): the data viewed as [outer, n, inner],
    /// the elements added before and after n, and the pad value; or why it stays on the host.</summary>
    public static ((long Outer, long N, long Inner, long Before, long After, double Value)? Pad, string? Why) Pad(Operation op, long halfSram)
    {
        var x = NpuPlacement.Shape(op.Operand(0));
        int e = NpuPlacement.ElementBytes(op.Result(0).Type);
        var pads = op.NumOperands > 1 && op.Operand(1).DefiningOp?.Name != "graph.none" ? Const(op, 1) : Ints(op.GetAttr("pads"));
        if ((op.GetAttr("mode") as StringAttr)?.Value is { } mode && mode != "constant")
        {
            return (null, $"pad mode {mode} (the DMA pads with a constant)");
        }

        if (pads is null || pads.Length != 2 * x.Length || pads.Any(v => v < 0) || (op.NumOperands > 3 && op.Operand(3).DefiningOp?.Name != "graph.none"))
        {
            return (null, "pads that are not non-negative compile-time constants for every axis");
        }

        var axes = Enumerable.Range(0, x.Length).Where(a => pads[a] != 0 || pads[a + x.Length] != 0).ToList();
        if (axes.Count > 1)
        {
            return (null, "a pad of more than one axis (the DMA pads one per load)");
        }

        double value = 0;
        if (op.NumOperands > 2 && op.Operand(2).DefiningOp?.Name != "graph.none")
        {
            if (op.Operand(2).DefiningOp is not { Name: "arith.constant" } c || c.GetAttr("value") is not DenseElementsAttr v)
            {
                return (null, "a pad value computed at run time");
            }

            value = v.GetDouble(0);
        }

        int axis = axes.Count == 0 ? 0 : axes[0];
        long outer = x.Take(axis).Aggregate(1L, (a, b) => a * b), inner = x.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        if (DmaKernels.PadReason(x[axis], inner, pads[axis], pads[axis + x.Length], e, halfSram) is { } why)
        {
            return (null, why);
        }

        return ((outer, x[axis], inner, pads[axis], pads[axis + x.Length], value), null);
    }

    private static long[]? Const(Operation op, int i) =>
        op.NumOperands > i && op.Operand(i).DefiningOp is { Name: "arith.constant" } c && c.GetAttr("value") is DenseElementsAttr d
            ? Enumerable.Range(0, (int)d.ElementCount).Select(k => d.GetLong(k)).ToArray()
            : null;

    private static long[]? Ints(Attribute? a) => a is ArrayAttr arr && arr.Elements.All(x => x is IntegerAttr)
        ? arr.Elements.Select(x => ((IntegerAttr)x).Value).ToArray()
        : null;

    private static int Axis(Operation op, string name, long fallback, int rank)
    {
        long a = (op.GetAttr(name) as IntegerAttr)?.Value ?? fallback;
        return (int)(a < 0 ? a + rank : a);
    }
}
