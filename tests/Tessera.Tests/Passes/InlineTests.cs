using Tessera.IR.Passes;
using Tessera.Passes.Transforms;
using static Tessera.Tests.Passes.PassTestUtil;

namespace Tessera.Tests.Passes;

public class InlineTests
{
    [Fact]
    public void InlinesNestedCallsBottomUpAndKeepsCallee()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func private @sq(%a: i32) -> i32 {
                %r = arith.muli(%a, %a) : i32
                func.return(%r) : i32
              }
              func.func private @quad(%a: i32) -> i32 {
                %s = func.call(%a) {callee = @sq} : (i32) -> i32
                %t = func.call(%s) {callee = @sq} : (i32) -> i32
                func.return(%t) : i32
              }
              func.func @main(%x: i32) -> i32 {
                %q = func.call(%x) {callee = @quad} : (i32) -> i32
                func.return(%q) : i32
              }
            }
            """);
        var pass = new InlinePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        var main = Func(m, "main");
        Assert.Equal(0, CountOps(main, "func.call"));
        Assert.Equal(2, CountOps(main, "arith.muli"));
        var last = Return(main).Operand(0).DefiningOp!;
        Assert.Equal("arith.muli", last.Name);
        var first = last.Operand(0).DefiningOp!;
        Assert.Same(main.Regions[0].Blocks[0].Arguments[0], first.Operand(0));
        Assert.IsType<CallSiteLoc>(last.Location);
        Assert.Equal(3, pass.Statistics["num-inlined"]); // sq twice into quad, quad once into main
        Assert.Equal(3, CountOps(m, "func.func")); // callees stay for symbol-dce

        // Then symbol-dce removes the now-unused private callees.
        Assert.Equal(PassResult.Changed, Run(new SymbolDcePass(), ctx, m));
        Assert.Equal(1, CountOps(m, "func.func"));
    }

    [Fact]
    public void RecursionIsNotInlined()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func private @self(%a: i32) -> i32 {
                %r = func.call(%a) {callee = @self} : (i32) -> i32
                func.return(%r) : i32
              }
              func.func private @even(%a: i32) -> i32 {
                %r = func.call(%a) {callee = @odd} : (i32) -> i32
                func.return(%r) : i32
              }
              func.func private @odd(%a: i32) -> i32 {
                %r = func.call(%a) {callee = @even} : (i32) -> i32
                func.return(%r) : i32
              }
              func.func @main(%x: i32) -> i32 {
                %p = func.call(%x) {callee = @self} : (i32) -> i32
                %q = func.call(%p) {callee = @even} : (i32) -> i32
                func.return(%q) : i32
              }
            }
            """);
        var before = Print(m);
        Assert.Equal(PassResult.Unchanged, Run(new InlinePass(), ctx, m));
        Assert.Equal(before, Print(m));
        Assert.Equal(5, CountOps(m, "func.call"));
    }

    [Fact]
    public void MultiBlockCalleeIsLeftAlone()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func private @branchy(%a: i32) -> i32 {
                cf.br [^bb1]
              ^bb1:
                func.return(%a) : i32
              }
              func.func private @id(%a: i32) -> i32 {
                func.return(%a) : i32
              }
              func.func @main(%x: i32) -> i32 {
                %p = func.call(%x) {callee = @branchy} : (i32) -> i32
                %q = func.call(%p) {callee = @id} : (i32) -> i32
                func.return(%q) : i32
              }
            }
            """);
        var pass = new InlinePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        var main = Func(m, "main");
        Assert.Equal(1, CountOps(main, "func.call"));
        // @id returned its argument: main returns the branchy call's result directly.
        Assert.Equal("func.call", Return(main).Operand(0).DefiningOp!.Name);
        Assert.Equal(1, pass.Statistics["not-inlined-multi-block"]);
        Assert.Equal(1, pass.Statistics["num-inlined"]);
    }

    [Fact]
    public void BottomUpOrderPutsCalleesFirst()
    {
        var (_, m) = Parse("""
            builtin.module {
              func.func @a(%x: i32) -> i32 {
                %r = func.call(%x) {callee = @b} : (i32) -> i32
                func.return(%r) : i32
              }
              func.func @b(%x: i32) -> i32 {
                %r = func.call(%x) {callee = @c} : (i32) -> i32
                func.return(%r) : i32
              }
              func.func @c(%x: i32) -> i32 {
                func.return(%x) : i32
              }
            }
            """);
        var funcs = m.Regions[0].Operations.ToList();
        var byName = funcs.ToDictionary(f => SymbolTable.GetName(f)!);
        var graph = InlinePass.BuildCallGraph(funcs, byName);
        var comps = new Dictionary<string, int>();
        QuikGraph.Algorithms.AlgorithmExtensions.StronglyConnectedComponents(graph, comps);
        Assert.Equal(["c", "b", "a"], InlinePass.BottomUpOrder(graph, comps));
    }
}
