using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// Which vector-unit and attention ops fit the NPU (<see cref="Vector"/>: and why not), and the shapes their dispatches
/// are built from (<see cref="Broadcasting"/>, <see cref="Rope"/>, <see cref="Attention"/>; the dispatches are in
/// RowKernels, RopeTile and AttentionTile). Tensors are viewed as rows × cols with cols the last dim.
/// </summary>
public static class NpuKernels
{
    /// <summary>null: not a vector/attention op; "": it runs on the NPU; otherwise why it stays on the host.</summary>
    public static string? Vector(Operation op)
    {
        if (RowKernels.Binaries.ContainsKey(op.Name))
        {
            return op.NumOperands == 2 && Broadcasting(op) is not null ? "" : "a broadcast other than full, per-row, per-column or scalar";
        }

        if (RowKernels.Unaries.Contains(op.Name))
        {
            return "";
        }

        int rank = ((TensorType)op.Result(0).Type).Rank;
        switch (op.Name)
        {
            case "graph.softmax":
                // Before opset 13 the default axis is 1 (and the input is flattened there); at the last axis both agree.
                long opset = (op.GetAttr("onnx_opset") as IntegerAttr)?.Value ?? 13;
                long axis = (op.GetAttr("axis") as IntegerAttr)?.Value ?? (opset >= 13 ? -1 : 1);
                return axis == -1 || axis == rank - 1 ? "" : "softmax over an axis other than the last";
            case "graph.rms_norm" or "graph.layer_norm":
                long a = (op.GetAttr("axis") as IntegerAttr)?.Value ?? -1;
                var w = op.Operand(1);
                return (a == -1 || a == rank - 1) && ((TensorType)w.Type).ElementCount == Cols(op.Result(0)) ? "" : "normalization over more than the last axis";
            case "graph.rope":
                return Rope(op) is not null ? "" : "rope layout other than [1, H, S, D] or [1, S, H, D] with [S, D] tables and an even D (interleaved: [1, H, S, D] only)";
            case "graph.sdpa":
                return Attention(op) is not null ? ""
                    : "attention other than f16/bf16 [1, H, S, D] with no mask, is_causal, or a bool/f16/bf16 mask broadcasting to [1, Hq, S, T]";
        }

        return null;
    }

    private static long Cols(Value v) => ((TensorType)v.Type).Shape![^1].Size;

    /// <summary>Which operand is the full one (0 or 1) and how the other broadcasts.</summary>
    internal static (int Full, RowInput Kind)? Broadcasting(Operation op)
    {
        var r = NpuPlacement.Shape(op.Result(0));
        for (int full = 0; full < 2; full++)
        {
            if (full == 1 && op.Name is "graph.sub")
            {
                break;
            }

            if (!NpuPlacement.Shape(op.Operand(full)).SequenceEqual(r))
            {
                continue;
            }

            var o = NpuPlacement.Shape(op.Operand(1 - full));
            long n = o.Aggregate(1L, (x, y) => x * y), cols = r.Length == 0 ? 1 : r[^1];
            if (o.SequenceEqual(r))
            {
                return (full, RowInput.Stream);
            }

            if (n == 1)
            {
                return (full, RowInput.Scalar);
            }

            if (o.Length > 0 && o[^1] == cols && n == cols)
            {
                return (full, RowInput.Row);
            }

            if (o.Length == r.Length && o[^1] == 1 && o[..^1].SequenceEqual(r[..^1]))
            {
                return (full, RowInput.Column);
            }
        }

        return null;
    }

    /// <summary>(heads-major?, H, S, D) when x is [1, H, S, D] (true) or [1, S, H, D] (false) and cos/sin hold S·D values;
    /// interleaved only heads-major (rotate-half rope on heads of size 2, <see cref="RopeTile"/>); D even.</summary>
    internal static (bool HeadsMajor, int H, int S, int D)? Rope(Operation op)
    {
        var x = NpuPlacement.Shape(op.Operand(0));
        var c = NpuPlacement.Shape(op.Operand(1));
        var s = NpuPlacement.Shape(op.Operand(2));
        if (x.Length != 4 || x[0] != 1 || !c.SequenceEqual(s) || c.Length < 2 || c[^1] != x[3] || x[3] % 2 != 0)
        {
            return null;
        }

        long tableRows = c.Aggregate(1L, (p, q) => p * q) / x[3];
        bool headsMajor = c[^2] == x[2] && tableRows == x[2];
        bool tokenMajor = c.Length == 4 && c[^2] == 1 && c[^3] == x[1] && tableRows == x[1];
        return headsMajor ? (true, (int)x[1], (int)x[2], (int)x[3]) : tokenMajor && !Interleaved(op) ? (false, (int)x[2], (int)x[1], (int)x[3]) : null;
    }

    internal static bool Interleaved(Operation op) => (op.GetAttr("interleaved") as IntegerAttr)?.Value is { } il && il != 0;

    /// <summary>The attention shape for f16/bf16 q [1, Hq, S, D], k and v [1, Hkv, T, D], with no mask, is_causal, a
    /// constant mask that is exactly the causal one (0 on and below the diagonal, very negative above), or any other mask
    /// tensor (computed at run time, or constant) of bool or the element type that broadcasts to [1, Hq, S, T] as
    /// [1|Hq, 1|S, T]: the dispatch reads it per key block.</summary>
    public static AttentionShape? Attention(Operation op)
    {
        var q = NpuPlacement.Shape(op.Operand(0));
        var k = NpuPlacement.Shape(op.Operand(1));
        var v = NpuPlacement.Shape(op.Operand(2));
        string? et = NpuPlacement.DType(op.Result(0).Type);
        if (q.Length != 4 || k.Length != 4 || !v.SequenceEqual(k) || q[0] != 1 || k[0] != 1 || q[3] != k[3] || k[1] == 0 || q[1] % k[1] != 0
            || et is not ("f16" or "bf16") || Enumerable.Range(0, 3).Any(i => NpuPlacement.DType(op.Operand(i).Type) != et))
        {
            return null;
        }

        long s = q[2], t = k[2];
        bool causal = (op.GetAttr("is_causal") as IntegerAttr)?.Value is { } c && c != 0;
        AttentionMask? mask = null;
        if (op.NumOperands > 3 && op.Operand(3).DefiningOp is var m && m?.Name != "graph.none")
        {
            if (m?.Name == "arith.constant" && m.GetAttr("value") is DenseElementsAttr d && d.ElementCount == s * t && IsCausal(d, s, t))
            {
                causal = true;
            }
            else if ((mask = RuntimeMask(op.Operand(3), et, q[1], s, t)) is null)
            {
                return null;
            }
        }

        double scale = (op.GetAttr("scale") as FloatAttr)?.Value ?? (1 / Math.Sqrt(q[3]));
        return scale > 0 && (!causal || t >= s)
            ? new AttentionShape((int)q[1], (int)k[1], (int)s, (int)t, (int)q[3], causal, causal ? (int)(t - s) : 0, (float)scale, mask) : null;
    }

    /// <summary>A mask of bool or <paramref name="et"/> whose shape, right-aligned against [1, Hq, S, T], is [.., 1|Hq, 1|S, T].</summary>
    private static AttentionMask? RuntimeMask(Value mask, string et, long hq, long s, long t)
    {
        string? mt = NpuPlacement.DType(mask.Type);
        var shape = NpuPlacement.Shape(mask);
        long Dim(int fromEnd) => shape.Length >= fromEnd ? shape[^fromEnd] : 1;
        if ((mt != "bool" && mt != et) || shape.Length is < 1 or > 4 || Dim(1) != t || Dim(2) is var r && r != 1 && r != s
            || Dim(3) is var h && h != 1 && h != hq || Dim(4) != 1)
        {
            return null;
        }

        return new AttentionMask(mt, (int)Dim(3), (int)Dim(2));
    }

    private static bool IsCausal(DenseElementsAttr d, long s, long t)
    {
        for (long i = 0; i < s; i++)
        {
            for (long j = 0; j < t; j++)
            {
                double x = d.GetDouble((i * t) + j);
                bool visible = j <= i + (t - s);
                if (visible ? x != 0 : x > -1e4)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
