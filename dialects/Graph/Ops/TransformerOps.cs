using static Tessera.Dialects.Graph.ElementwiseOpsHelpers;
using static Tessera.Dialects.Graph.ReductionOpsHelpers;

namespace Tessera.Dialects.Graph;

/// <summary>
/// The raised transformer ops: no ONNX op imports to them; the graph-raise-* passes create them from the subgraphs
/// PyTorch exports. Each kernel computes the same function as the subgraph it replaces, in double precision.
/// graph.gelu is ONNX Gelu's op (ElementwiseOps), whose approximate attribute the raising pass sets; rms_norm and
/// layer_norm share the kernels of ONNX RMSNormalization and LayerNormalization (same operands and attributes).
/// </summary>
public static partial class TransformerOps
{
    public static IEnumerable<GraphOpInfo> Ops =>
    [
        new("graph.rms_norm", null, "", 1, ReductionOps.RmsNormalization) { Summary = "x / sqrt(mean(x^2 over axis..rank) + epsilon) * weight" },
        new("graph.layer_norm", null, "", 1, ReductionOps.LayerNormalization) { Summary = "(x - mean) / sqrt(var + epsilon) * weight + bias over axis..rank; bias may be graph.none" },
        new("graph.silu", null, "", 1, Silu) { Summary = "x * sigmoid(x)" },
        new("graph.rope", null, "", 1, Rope) { Summary = "rotary embedding x * cos + rotate(x) * sin; rotate_half (interleaved = 0) or pairwise (interleaved = 1) on the last axis" },
        new("graph.sdpa", null, "", 1, Sdpa) { Summary = "softmax(q k^T * scale + mask) v with grouped-query heads; mask is additive float, boolean (true = attend) or graph.none" },
    ];

    private static IReadOnlyList<NDArray> Silu(KernelContext k) => [UnaryF(k.In(0), v => v * Sigmoid(v))];
}
