using Tessera.IR.Passes;
using Tessera.Passes.Transforms;
using static Tessera.Tests.Passes.PassTestUtil;

namespace Tessera.Tests.Passes;

public class SymbolDceTests
{
    private const string Text = """
        builtin.module {
          func.func private @unused(%a: i32) -> i32 {
            %r = func.call(%a) {callee = @helper2} : (i32) -> i32
            func.return(%r) : i32
          }
          func.func private @helper(%a: i32) -> i32 {
            %r = func.call(%a) {callee = @helper2} : (i32) -> i32
            func.return(%r) : i32
          }
          func.func private @helper2(%a: i32) -> i32 {
            func.return(%a) : i32
          }
          func.func private @cycle1(%a: i32) -> i32 {
            %r = func.call(%a) {callee = @cycle2} : (i32) -> i32
            func.return(%r) : i32
          }
          func.func private @cycle2(%a: i32) -> i32 {
            %r = func.call(%a) {callee = @cycle1} : (i32) -> i32
            func.return(%r) : i32
          }
          func.func @main(%a: i32) -> i32 {
            %r = func.call(%a) {callee = @helper} : (i32) -> i32
            func.return(%r) : i32
          }
          func.func @api(%a: i32) -> i32 {
            func.return(%a) : i32
          }
        }
        """;

    private static string[] Names(Operation m) =>
        m.Regions[0].Operations.Select(o => SymbolTable.GetName(o)!).ToArray();

    [Fact]
    public void ErasesUnreachablePrivateSymbolsKeepsPublicAndTransitivelyUsed()
    {
        var (ctx, m) = Parse(Text);
        var pass = new SymbolDcePass();
        Assert.Equal(PassResult.Changed, Run(pass, ctx, m));
        Assert.Equal(["helper", "helper2", "main", "api"], Names(m));
        Assert.Equal(3, pass.Statistics["num-dce'd"]);
        Assert.Equal(PassResult.Unchanged, Run(new SymbolDcePass(), ctx, m));
    }

    [Fact]
    public void DoesNothingOnOpWithoutSymbolTable()
    {
        var (ctx, m) = Parse(Text);
        Assert.Equal(PassResult.Unchanged, Run(new SymbolDcePass(), ctx, Func(m, "main")));
        Assert.Equal(7, Names(m).Length);
    }
}

public class SymbolDceNestedTests
{
    [Fact]
    public void NestedReferencesKeepPathAndNestedTablesAreCleaned()
    {
        var (ctx, m) = PassTestUtil.Parse("""
            builtin.module {
              builtin.module @inner {
                func.func private @used(%a: i32) -> i32 {
                  func.return(%a) : i32
                }
                func.func private @dead(%a: i32) -> i32 {
                  func.return(%a) : i32
                }
              }
              func.func @main(%a: i32) -> i32 attributes {ref = @inner::@used} {
                func.return(%a) : i32
              }
            }
            """);
        var pass = new Tessera.Passes.Transforms.SymbolDcePass();
        Assert.Equal(Tessera.IR.Passes.PassResult.Changed, PassTestUtil.Run(pass, ctx, m));
        var names = m.Walk().Select(SymbolTable.GetName).OfType<string>().ToArray();
        Assert.Equal(["inner", "used", "main"], names);
    }
}
