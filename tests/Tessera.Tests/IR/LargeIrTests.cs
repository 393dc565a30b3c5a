using System.Text;
using Tessera.Dialects;

namespace Tessera.Tests.IR;

/// <summary>Nothing recurses on the length of a block: a 100,000-op chain parses, verifies and prints.</summary>
public class LargeIrTests
{
    public static string Chain(int n)
    {
        var sb = new StringBuilder("func.func @chain(%x: i32) -> i32 {\n");
        sb.Append("  %v0 = arith.addi(%x, %x) : i32\n");
        for (int i = 1; i < n; i++)
        {
            sb.Append("  %v").Append(i).Append(" = arith.addi(%v").Append(i - 1).Append(", %x) : i32\n");
        }

        sb.Append("  func.return(%v").Append(n - 1).Append(") : i32\n}\n");
        return sb.ToString();
    }

    [Fact]
    public void HundredThousandOpChainParsesVerifiesAndPrints()
    {
        var ctx = Contexts.CreateDefault();
        var m = Parser.ParseModule(ctx, Chain(100_000), "chain.tir");
        var func = m.Regions[0].Blocks[0].First!;
        Assert.Equal(100_001, func.Regions[0].Blocks[0].Count);
        var diags = new DiagnosticBag();
        Assert.True(Verifier.Verify(m, diags), diags.Render());
        var text = Printer.PrintOp(m);
        Assert.Contains("%v99999 = arith.addi(%v99998, %x) : i32", text);
        // module, func, 100,000 adds, return, two closing braces, and the empty string after the last newline.
        Assert.Equal(100_006, text.Split('\n').Length);
    }

    [Fact]
    public void DeeplyNestedIrBuiltInCodeVerifiesAndPrintsWithoutOverflow()
    {
        var ctx = Contexts.CreateDefault(allowUnregistered: true);
        var b = new OpBuilder(ctx);
        var root = Operation.Create(ctx, new OperationState("test.nest", Location.Unknown) { NumRegions = 1 });
        var cur = root;
        for (int i = 0; i < 50_000; i++)
        {
            var block = cur.Regions[0].AddBlock();
            b.SetInsertionPointToEnd(block);
            cur = b.Create("test.nest", Location.Unknown, [], [], null, regions: 1);
        }

        var diags = new DiagnosticBag();
        Assert.False(Verifier.Verify(root, diags));
        Assert.Contains(diags.Items, d => d.Code == DiagnosticCodes.VerifyBrokenIr);
        Assert.Contains("<<nesting limit exceeded>>", Printer.PrintOp(root));
        Assert.Equal(50_001, root.Walk().Count());
    }
}
