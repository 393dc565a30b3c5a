using Tessera.IR.Passes;
using Tessera.Passes;

namespace Tessera.Tests.Passes;

public class BuiltinPassesTests
{
    [Fact]
    public void RegistersEveryBuiltinByFlag()
    {
        var registered = new List<(string Flag, Func<Pass> Factory)>();
        BuiltinPasses.RegisterAll((flag, factory) => registered.Add((flag, factory)));
        Assert.Equal(["canonicalize", "cse", "dce", "symbol-dce", "inline", "graph-shape-infer", "graph-raise-norms", "graph-raise-activations", "graph-raise-rope", "graph-raise-attention", "graph-specialize", "demote-f32", "npu-partition", "npu-tile", "npu-matmul-to-tile", "npu-vector-to-tile", "npu-attention-to-tile", "npu-move-to-tile", "npu-lower"], registered.Select(r => r.Flag));
        foreach (var (flag, factory) in registered)
        {
            Assert.Equal(flag, factory().Flag);
            Assert.NotSame(factory(), factory());
            var file = Path.Combine(Repo.Root, "passes", "Transforms", flag + ".cs");
            Assert.True(File.Exists(file), file);
        }
    }
}
