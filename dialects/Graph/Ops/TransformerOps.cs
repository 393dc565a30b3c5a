namespace Tessera.Dialects.Graph;

public static partial class TransformerOps
{
    public static IEnumerable<GraphOpInfo> Ops => [];
}
