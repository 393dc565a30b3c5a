using Tessera.Dialects;

namespace Tessera.Tests.Scratch;

public class SmokeTests
{
    [Fact]
    public void ExampleRoundTrips()
    {
        var ctx = Contexts.CreateDefault();
        var text = File.ReadAllText(Path.Combine(Repo.Root, "samples/ir/example.tir"));
        var m = Parser.ParseModule(ctx, text, "example.tir");
        var p1 = Printer.PrintOp(m);
        var p2 = Printer.PrintOp(Parser.ParseModule(ctx, p1, "p1.tir"));
        Console.WriteLine(p1);
        Assert.Equal(p1, p2);
        var r = GreedyRewriteDriver.Apply(ctx, m, ctx.RegisteredOps.SelectMany(o => o.Canonicalizations));
        Console.WriteLine(Printer.PrintOp(m));
        Assert.True(r.Changed);
    }
}
