namespace Tessera.Dialects.Graph;

public static partial class ElementwiseOps
{
    public static IEnumerable<GraphOpInfo> Ops => [];
}
