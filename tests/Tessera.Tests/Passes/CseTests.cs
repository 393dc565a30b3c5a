using Tessera.IR.Passes;
using Tessera.Passes.Transforms;
using static Tessera.Tests.Passes.PassTestUtil;

namespace Tessera.Tests.Passes;

public class CseTests
{
    [Fact]
    public void MergesDuplicateMultiply()
    {
        var (ctx, m) = Parse(File.ReadAllText(Path.Combine(Repo.Root, "samples/ir/example.tir")));
        var pass = new CsePass();
        Assert.Equal(3, CountOps(m, "arith.muli"));
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        Assert.Equal(2, CountOps(m, "arith.muli"));
        Assert.Equal(1, pass.Statistics["num-cse'd"]);
        // %f = addi(%d, %d) now.
        var f = m.Walk().Single(o => o.Name == "arith.addi" && o.Operand(0).DefiningOp?.Name == "arith.muli");
        Assert.Same(f.Operand(0), f.Operand(1));
    }

    [Fact]
    public void CommutativeOperandOrderIsCanonical()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%a: i32, %b: i32) -> i32 {
                %x = arith.addi(%a, %b) : i32
                %y = arith.addi(%b, %a) : i32
                %s = arith.subi(%a, %b) : i32
                %t = arith.subi(%b, %a) : i32
                %r = arith.muli(%x, %y) : i32
                %q = arith.muli(%s, %t) : i32
                %z = arith.addi(%r, %q) : i32
                func.return(%z) : i32
              }
            }
            """);
        Assert.Equal(PassResult.Changed, Run(new CsePass(), ctx, m));
        Assert.Equal(2, CountOps(m, "arith.addi"));
        Assert.Equal(2, CountOps(m, "arith.subi")); // not commutative
        var r = m.Walk().First(o => o.Name == "arith.muli");
        Assert.Same(r.Operand(0), r.Operand(1));
    }

    [Fact]
    public void DifferentAttributesOrTypesAreNotMerged()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%a: i32, %b: i32) -> i1 {
                %c1 = arith.constant 1 : i32
                %c2 = arith.constant 1 : i64
                %c3 = arith.constant 1 : i32
                %p = arith.cmpi(%a, %b) {predicate = "slt"} : (i32, i32) -> i1
                %q = arith.cmpi(%a, %b) {predicate = "sgt"} : (i32, i32) -> i1
                %r = arith.cmpi(%a, %b) {predicate = "slt"} : (i32, i32) -> i1
                %s = arith.andi(%p, %q) : i1
                %t = arith.andi(%s, %r) : i1
                func.return(%t) : i1
              }
            }
            """);
        Assert.Equal(PassResult.Changed, Run(new CsePass(), ctx, m));
        Assert.Equal(2, CountOps(m, "arith.constant"));
        Assert.Equal(2, CountOps(m, "arith.cmpi"));
    }

    [Fact]
    public void SiblingBlocksThatDoNotDominateEachOtherAreNotMerged()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%c: i1, %a: i32, %b: i32) -> i32 {
                %e = arith.addi(%a, %b) : i32
                cf.cond_br(%c) [^bb1, ^bb2] : i1
              ^bb1:
                %x = arith.muli(%a, %b) : i32
                %e1 = arith.addi(%a, %b) : i32
                cf.br [^bb3(%x : i32)]
              ^bb2:
                %y = arith.muli(%a, %b) : i32
                cf.br [^bb3(%y : i32)]
              ^bb3(%r: i32):
                %z = arith.muli(%a, %b) : i32
                %w = arith.addi(%r, %z) : i32
                func.return(%w) : i32
              }
            }
            """);
        var pass = new CsePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        // Only %e1 (dominated by the entry's %e) goes; the three multiplies stay.
        Assert.Equal(1, pass.Statistics["num-cse'd"]);
        Assert.Equal(3, CountOps(m, "arith.muli"));
    }

    [Fact]
    public void EntryBlockValueIsReusedInDominatedBlock()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%a: i32) -> i32 {
                %c = arith.constant 4 : i32
                cf.br [^bb1]
              ^bb1:
                %d = arith.constant 4 : i32
                %s = arith.addi(%a, %d) : i32
                func.return(%s) : i32
              }
            }
            """);
        Assert.Equal(PassResult.Changed, Run(new CsePass(), ctx, m));
        Assert.Equal(1, CountOps(m, "arith.constant"));
        var add = m.Walk().Single(o => o.Name == "arith.addi");
        Assert.True(add.Operand(1).DefiningOp!.ParentBlock!.IsEntryBlock);
    }

    [Fact]
    public void IsolatedFunctionsDoNotShareValues()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f() -> i32 {
                %c = arith.constant 4 : i32
                func.return(%c) : i32
              }
              func.func @g() -> i32 {
                %c = arith.constant 4 : i32
                func.return(%c) : i32
              }
            }
            """);
        Assert.Equal(PassResult.Unchanged, Run(new CsePass(), ctx, m));
        Assert.Equal(2, CountOps(m, "arith.constant"));
    }

    [Fact]
    public void DeterministicAcrossRunsAndSecondRunUnchanged()
    {
        const string text = """
            builtin.module {
              func.func @f(%a: i32, %b: i32) -> i32 {
                %x = arith.addi(%b, %a) : i32
                %y = arith.addi(%a, %b) : i32
                %p = arith.muli(%x, %a) : i32
                %q = arith.muli(%a, %y) : i32
                %s = arith.subi(%p, %q) : i32
                func.return(%s) : i32
              }
            }
            """;
        var (ctx1, m1) = Parse(text);
        var (ctx2, m2) = Parse(text);
        Assert.Equal(PassResult.Changed, Run(new CsePass(), ctx1, m1));
        Assert.Equal(PassResult.Changed, Run(new CsePass(), ctx2, m2));
        Assert.Equal(Print(m1), Print(m2));
        Assert.Equal(1, CountOps(m1, "arith.muli"));
        Assert.Equal(PassResult.Unchanged, Run(new CsePass(), ctx1, m1));
    }

    [Fact]
    public void LoopHeaderValueIsReusedInExitButNotViceVersa()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%a: i32, %c: i1) -> i32 {
                cf.br [^bb1(%a : i32)]
              ^bb1(%i: i32):
                %h = arith.muli(%i, %a) : i32
                cf.cond_br(%c) [^bb1(%h : i32), ^bb2] : i1
              ^bb2:
                %x = arith.muli(%i, %a) : i32
                %y = arith.subi(%x, %a) : i32
                func.return(%y) : i32
              }
            }
            """);
        Assert.Equal(PassResult.Changed, Run(new CsePass(), ctx, m));
        Assert.Equal(1, CountOps(m, "arith.muli"));
        var f = Func(m, "f");
        Assert.Equal([0, 0, 1], new DominanceInfo(f).ImmediateDominators(f.Regions[0]));
    }
}
