namespace Tessera.Dialects.Graph;

public static partial class ShapeOps
{
    public static IEnumerable<GraphOpInfo> Ops => [];
}
