namespace Tessera.Dialects.Graph;

public static partial class ReductionOps
{
    public static IEnumerable<GraphOpInfo> Ops => [];
}
