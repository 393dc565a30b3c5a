using Tessera.Dialects;
using Tessera.IR.Passes;

namespace Tessera.Tests.Passes;

internal static class PassTestUtil
{
    public static (Context Ctx, Operation Module) Parse(string text)
    {
        var ctx = Contexts.CreateDefault();
        return (ctx, Parser.ParseModule(ctx, text, "test.tir"));
    }

    public static PassResult Run(Pass pass, Context ctx, Operation op, DiagnosticBag? diags = null) =>
        pass.Run(op, new PassContext(ctx, diags ?? new DiagnosticBag()));

    public static int CountOps(Operation root, string name) => root.Walk().Count(o => o.Name == name);

    public static Operation Func(Operation module, string name) =>
        module.Walk().Single(o => o.Name == "func.func" && SymbolTable.GetName(o) == name);

    public static Operation Return(Operation func) => func.Walk().Last(o => o.Name == "func.return");

    public static string Print(Operation op) => Printer.PrintOp(op);
}
