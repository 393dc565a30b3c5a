namespace Tessera.Dialects.Graph;

public static partial class NnOps
{
    public static IEnumerable<GraphOpInfo> Ops => [];
}
