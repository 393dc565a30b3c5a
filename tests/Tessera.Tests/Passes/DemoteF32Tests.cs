using Tessera.Passes.Transforms;
using static Tessera.Tests.Passes.PassTestUtil;

namespace Tessera.Tests.Passes;

public class DemoteF32Tests
{
    [Fact]
    public void AWeightsCastToF32DisappearsSoItsMatmulSeesTheConstant()
    {
        // canonicalize leaves casts of more than 2^20 elements alone; after demotion this one is f16 -> f16.
        var (ctx, module) = Parse("""
            func.func @f(%x: tensor<2x3xf32>, %h: tensor<2x3xf16>) -> tensor<2x4xf32> {
              %w = arith.constant dense<1.5> : tensor<4x3xf16>
              %c = graph.cast(%w) {onnx_opset = 19, to = 1} : (tensor<4x3xf16>) -> tensor<4x3xf32>
              %y = graph.gemm(%x, %c) {onnx_opset = 17, transB = 1} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
              %a = graph.cast(%h) {onnx_opset = 19, to = 1} : (tensor<2x3xf16>) -> tensor<2x3xf32>
              func.return(%y) : tensor<2x4xf32>
            }
            """);
        var func = Func(module, "f");
        Assert.Equal(Tessera.IR.Passes.PassResult.Changed, Run(new DemoteF32Pass(), ctx, func));
        var gemm = func.Walk().Single(o => o.Name == "graph.gemm");
        Assert.Equal("arith.constant", gemm.Operand(1).DefiningOp?.Name);
        // A cast of an argument is kept: only a constant's cast folds away here.
        var cast = func.Walk().Single(o => o.Name == "graph.cast");
        Assert.Null(cast.Operand(0).DefiningOp);
        Assert.Contains("tensor<2x4xf16>", Print(gemm));
    }
}
