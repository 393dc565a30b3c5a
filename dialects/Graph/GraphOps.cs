namespace Tessera.Dialects.Graph;

/// <summary>The whole graph op table: the op sets in Ops/, in a fixed order.</summary>
public static class GraphOps
{
    public static IEnumerable<GraphOpInfo> All =>
        ElementwiseOps.Ops
            .Concat(ReductionOps.Ops)
            .Concat(ShapeOps.Ops)
            .Concat(NnOps.Ops)
            .Concat(TransformerOps.Ops)
            .Concat(QuantOps.Ops);

    /// <summary>The row for an ONNX op at a given opset: the newest row whose SinceVersion is not above it.</summary>
    public static GraphOpInfo? ForOnnx(string opType, string domain, int opset) =>
        All.Where(o => o.OnnxName == opType && o.Domain == domain && o.SinceVersion <= opset)
           .OrderByDescending(o => o.SinceVersion)
           .FirstOrDefault();
}
