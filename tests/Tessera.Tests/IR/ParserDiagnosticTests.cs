using Tessera.Dialects;

namespace Tessera.Tests.IR;

/// <summary>Parse errors name file:line:col, carry a code, and say what was expected.</summary>
public class ParserDiagnosticTests
{
    private static Diagnostic ParseError(string text, bool allowUnregistered = false)
    {
        var ctx = Contexts.CreateDefault(allowUnregistered);
        var ex = Assert.Throws<DiagnosticException>(() => Parser.ParseModule(ctx, text, "bad.tir"));
        return ex.Diagnostic;
    }

    [Theory]
    // error: expected ')' to close operand list
    [InlineData("%0 = arith.constant 1 : i32\n%1 = arith.addi(%0, %0 : i32", 2, 24, "TSR0101", "expected ')' to close operand list")]
    // error: use of undefined value '%9'
    [InlineData("func.func @f() -> i32 {\n  func.return(%9) : i32\n}", 2, 15, "TSR0102", "use of undefined value '%9'")]
    // error: redefinition of value '%a'
    [InlineData("%a = arith.constant 1 : i32\n%a = arith.constant 2 : i32", 2, 1, "TSR0103", "redefinition of value '%a'")]
    // error: unknown operation
    [InlineData("%0 = foo.bar : i32", 1, 6, "TSR0104", "unknown operation 'foo.bar'")]
    // error: unknown type
    [InlineData("%0 = arith.constant 1 : i33x", 1, 25, "TSR0105", "unknown type 'i33x'")]
    // error: integer does not fit
    [InlineData("%0 = arith.constant 300 : i8", 1, 21, "TSR0110", "integer 300 does not fit in i8")]
    // error: type mismatch between definition and use
    [InlineData("%0 = arith.constant 1 : i32\n%1 = arith.addf(%0, %0) : f32", 2, 17, "TSR0108", "expects type f32 but it is defined with type i32")]
    // error: dense literal shape
    [InlineData("%0 = arith.constant dense<[1.0, 2.0]> : tensor<3xf32>", 1, 21, "TSR0106", "dense literal has shape [2]")]
    // error: undefined block
    [InlineData("func.func @f() {\n  cf.br [^bb7]\n}", 2, 10, "TSR0109", "reference to undefined block '^bb7'")]
    // error: result count
    [InlineData("%a:2 = arith.constant 1 : i32", 1, 1, "TSR0108", "has 1 result(s) but 2 name(s) were given")]
    // error: memory space
    [InlineData("%0 = arith.constant 1 : memref<4xf32, hbm>", 1, 39, "TSR0105", "unknown memory space 'hbm'")]
    // error: unterminated region at end of input
    [InlineData("func.func @f() {\n", 2, 1, "TSR0101", "expected '}' to close region")]
    public void ReportsCodedErrorAtLocation(string text, int line, int col, string code, string message)
    {
        var d = ParseError(text);
        Assert.Equal(code, d.Code);
        Assert.Contains(message, d.Message);
        Assert.Equal($"bad.tir:{line}:{col}", d.Location.DiagnosticPrefix);
        Assert.StartsWith($"bad.tir:{line}:{col}: error {code}: ", d.Render());
    }

    [Fact]
    public void DeepNestingIsADiagnosticNotAStackOverflow()
    {
        var text = string.Concat(Enumerable.Repeat("test.op ({\n", 100_000)) + string.Concat(Enumerable.Repeat("})\n", 100_000));
        var d = ParseError(text, allowUnregistered: true);
        Assert.Equal(DiagnosticCodes.ParseTooDeep, d.Code);
        var attr = string.Concat(Enumerable.Repeat("[", 50_000)) + string.Concat(Enumerable.Repeat("]", 50_000));
        var d2 = ParseError("%0 = arith.constant 1 : i32 loc(unknown)\ntest.op {a = " + attr + "}", allowUnregistered: true);
        Assert.Equal(DiagnosticCodes.ParseTooDeep, d2.Code);
    }

    [Fact]
    public void ForwardReferencesAcrossBlocksResolve()
    {
        var ctx = Contexts.CreateDefault();
        var m = Parser.ParseModule(ctx, """
            func.func @f(%c: i1) -> i32 {
              cf.cond_br(%c) [^bb1, ^bb2] : i1
            ^bb1:
              cf.br [^bb3(%one : i32)]
            ^bb2:
              %one = arith.constant 1 : i32
              cf.br [^bb3(%one : i32)]
            ^bb3(%r: i32):
              func.return(%r) : i32
            }
            """, "fwd.tir");
        var func = m.Regions[0].Blocks[0].First!;
        Assert.Equal(4, func.Regions[0].Blocks.Count);
        var constant = func.Regions[0].Blocks[2].First!;
        Assert.Equal(2, constant.Result(0).Uses.Count());
    }
}
