namespace Tessera.Passes;

/// <summary>Rewrites the type of every value under an op (block arguments and op results, nested regions included).</summary>
public static class Retype
{
    public static void Values(Operation root, Func<Type, Type> map)
    {
        foreach (var op in root.Walk())
        {
            foreach (var arg in op.Regions.SelectMany(r => r.Blocks).SelectMany(b => b.Arguments))
            {
                arg.Type = map(arg.Type);
            }

            foreach (var r in op.Results)
            {
                r.Type = map(r.Type);
            }
        }
    }
}
