using Tessera.IR.Passes;
using Tessera.Passes.Transforms;
using static Tessera.Tests.Passes.PassTestUtil;

namespace Tessera.Tests.Passes;

public class DceTests
{
    [Fact]
    public void ErasesDeadChainToFixpoint()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%a: i32) -> i32 {
                %c = arith.constant 3 : i32
                %x = arith.muli(%a, %c) : i32
                %y = arith.addi(%x, %x) : i32
                %z = arith.subi(%y, %a) : i32
                func.return(%a) : i32
              }
            }
            """);
        var pass = new DcePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        Assert.Equal(0, CountOps(m, "arith.constant") + CountOps(m, "arith.muli") + CountOps(m, "arith.addi") + CountOps(m, "arith.subi"));
        Assert.Equal(4, pass.Statistics["num-erased-ops"]);
        Assert.Equal(1, CountOps(m, "func.return"));
        Assert.Equal(PassResult.Unchanged, Run(new DcePass(), ctx, m));
    }

    [Fact]
    public void KeepsUsedOpsAndCalls()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @g(%a: i32) -> i32 {
                func.return(%a) : i32
              }
              func.func @f(%a: i32) -> i32 {
                %unused = func.call(%a) {callee = @g} : (i32) -> i32
                %c = arith.constant 3 : i32
                %x = arith.muli(%a, %c) : i32
                func.return(%x) : i32
              }
            }
            """);
        Assert.Equal(PassResult.Unchanged, Run(new DcePass(), ctx, m));
        Assert.Equal(1, CountOps(m, "func.call")); // not Pure: may have effects
        Assert.Equal(1, CountOps(m, "arith.muli"));
    }

    [Fact]
    public void RemovesUnreachableBlocksAndWhatOnlyTheyUsed()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%a: i32) -> i32 {
                %c = arith.constant 9 : i32
                cf.br [^bb2(%a : i32)]
              ^bb1:
                %d = arith.addi(%a, %c) : i32
                cf.br [^bb2(%d : i32)]
              ^bb2(%r: i32):
                func.return(%r) : i32
              }
            }
            """);
        var pass = new DcePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        var f = Func(m, "f");
        Assert.Equal(2, f.Regions[0].Blocks.Count);
        Assert.Equal(1, pass.Statistics["num-erased-blocks"]);
        Assert.Equal(0, CountOps(m, "arith.addi"));
        Assert.Equal(0, CountOps(m, "arith.constant"));
        Assert.Equal(PassResult.Unchanged, Run(new DcePass(), ctx, m));
    }
}
