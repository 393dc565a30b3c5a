namespace Tessera.Dialects.Graph;

/// <summary>
/// The shape function table of the graph dialect, keyed by IR op name. Rules live in the rule lists of this folder;
/// an op without a rule is left as it is by shape inference.
/// </summary>
public static class GraphShapes
{
    private static readonly Lazy<IReadOnlyDictionary<string, ShapeFn>> Table = new(Build);

    public static ShapeFn? For(string irName) => Table.Value.GetValueOrDefault(irName);

    /// <summary>Every op name with a shape function.</summary>
    public static IEnumerable<string> Names => Table.Value.Keys;

    private static IReadOnlyDictionary<string, ShapeFn> Build()
    {
        var table = new SortedDictionary<string, ShapeFn>(StringComparer.Ordinal);
        foreach (var (name, fn) in ElementwiseShapes.Rules.Concat(ReductionShapes.Rules).Concat(ShapeOpShapes.Rules).Concat(NnShapes.Rules))
        {
            if (!table.TryAdd(name, fn))
            {
                throw new InvalidOperationException($"graph op {name} has two shape functions");
            }
        }

        return table;
    }
}
