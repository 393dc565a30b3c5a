using Tessera.IR.Passes;
using Tessera.Passes.Transforms;
using static Tessera.Tests.Passes.PassTestUtil;

namespace Tessera.Tests.Passes;

public class CanonicalizeTests
{
    [Fact]
    public void FoldsConstantAdditionToFive()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f() -> i32 {
                %a = arith.constant 2 : i32
                %b = arith.constant 3 : i32
                %c = arith.addi(%a, %b) : i32
                func.return(%c) : i32
              }
            }
            """);
        var pass = new CanonicalizePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        Assert.Equal(0, CountOps(m, "arith.addi"));
        var def = Return(Func(m, "f")).Operand(0).DefiningOp!;
        Assert.Equal("arith.constant", def.Name);
        Assert.Equal(5, def.GetAttr<IntegerAttr>("value")!.Value);
        Assert.Equal(1, CountOps(m, "arith.constant"));
        Assert.True(pass.Statistics["folded"] >= 1);
    }

    /// <summary>A widening cast of a large float constant (a GGUF weight loaded as f16 and cast to f32) stays an op: folding
    /// would double its bytes. A small one, and a narrowing one, still fold.</summary>
    [Theory]
    [InlineData("f16", "f32", 65536, true)]
    [InlineData("f16", "f32", 65537, false)]
    [InlineData("bf16", "f32", 300000, false)]
    [InlineData("f32", "f16", 300000, true)]
    public void WideningCastsOfLargeConstantsStayOps(string from, string to, int n, bool folds)
    {
        int code = to == "f32" ? 1 : 10;
        var (ctx, m) = Parse($$"""
            builtin.module {
              func.func @f() -> tensor<{{n}}x{{to}}> {
                %w = arith.constant dense<1.5> : tensor<{{n}}x{{from}}>
                %c = graph.cast(%w) {onnx_opset = 19, to = {{code}}} : (tensor<{{n}}x{{from}}>) -> tensor<{{n}}x{{to}}>
                func.return(%c) : tensor<{{n}}x{{to}}>
              }
            }
            """);
        Run(new CanonicalizePass(), ctx, m);
        Assert.Equal(folds ? 0 : 1, CountOps(m, "graph.cast"));
        var def = Return(Func(m, "f")).Operand(0).DefiningOp!;
        Assert.Equal(folds ? "arith.constant" : "graph.cast", def.Name);
        if (folds)
        {
            Assert.Equal(1.5, ((DenseElementsAttr)def.GetAttr("value")!).GetDouble(0));
        }
    }

    [Fact]
    public void RemovesMultiplyByOneAndAddZero()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%x: i32) -> i32 {
                %one = arith.constant 1 : i32
                %zero = arith.constant 0 : i32
                %a = arith.muli(%x, %one) : i32
                %b = arith.addi(%zero, %a) : i32
                func.return(%b) : i32
              }
            }
            """);
        Assert.Equal(PassResult.Changed, Run(new CanonicalizePass(), ctx, m));
        var f = Func(m, "f");
        Assert.Same(f.Regions[0].Blocks[0].Arguments[0], Return(f).Operand(0));
        Assert.Equal(0, CountOps(m, "arith.muli"));
        Assert.Equal(0, CountOps(m, "arith.addi"));
        Assert.Equal(0, CountOps(m, "arith.constant"));
    }

    [Fact]
    public void MovesConstantToRightOfCommutativeOp()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%x: i32) -> i32 {
                %c = arith.constant 7 : i32
                %a = arith.muli(%c, %x) : i32
                func.return(%a) : i32
              }
            }
            """);
        var pass = new CanonicalizePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        var mul = Return(Func(m, "f")).Operand(0).DefiningOp!;
        Assert.Equal("arith.muli", mul.Name);
        Assert.IsType<BlockArgument>(mul.Operand(0));
        Assert.Equal("arith.constant", mul.Operand(1).DefiningOp!.Name);
        Assert.Equal(1, pass.Statistics["commutative-constant-to-rhs"]);
    }

    [Fact]
    public void SecondRunReportsUnchanged()
    {
        var (ctx, m) = Parse(File.ReadAllText(Path.Combine(Repo.Root, "samples/ir/example.tir")));
        Assert.Equal(PassResult.Changed, Run(new CanonicalizePass(), ctx, m));
        var once = Print(m);
        Assert.Equal(PassResult.Unchanged, Run(new CanonicalizePass(), ctx, m));
        Assert.Equal(once, Print(m));
    }

    [Fact]
    public void FoldOptionOffKeepsConstantArithmetic()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f() -> i32 {
                %a = arith.constant 2 : i32
                %b = arith.constant 3 : i32
                %c = arith.addi(%a, %b) : i32
                func.return(%c) : i32
              }
            }
            """);
        var pass = new CanonicalizePass();
        Assert.Null(pass.Options.Single(o => o.Name == "fold").TrySet("false"));
        Assert.Equal(PassResult.Unchanged, Run(pass, ctx, m));
        Assert.Equal(1, CountOps(m, "arith.addi"));
        Assert.Equal("canonicalize{fold=false}", pass.ToString());
    }

    [Fact]
    public void NonConvergenceIsAWarningNotAFailure()
    {
        var (ctx, m) = Parse("""
            builtin.module {
              func.func @f(%x: i32) -> i32 {
                %c1 = arith.constant 1 : i32
                %a = arith.addi(%x, %c1) : i32
                %b = arith.addi(%a, %c1) : i32
                %c = arith.addi(%b, %c1) : i32
                func.return(%c) : i32
              }
            }
            """);
        var diags = new DiagnosticBag();
        var pass = new CanonicalizePass { MaxIterations = 1 };
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m, diags));
        Assert.Contains(diags.Items, d => d.Severity == Severity.Warning);
        Assert.False(diags.HasErrors);
    }
}
