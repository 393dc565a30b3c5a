using Tessera.IR;

namespace Tessera.Dialects;

public sealed class BuiltinDialect : Dialect
{
    public override string Name => "builtin";

    /// <summary>The top-level container: one block of symbols, no terminator.</summary>
    public static readonly OpDef Module = OpDef.Define("builtin.module", "a module: the top-level container of symbols")
        .OptionalAttr(SymbolTable.SymNameAttr, AC.String)
        .With(OpTraits.IsolatedFromAbove | OpTraits.SymbolTable | OpTraits.NoTerminator | OpTraits.SingleBlock)
        .Regions(1)
        .CustomSyntax(new ModuleSyntax());

    public override IEnumerable<OpDef> Ops => [Module];

    /// <summary><c>builtin.module [@name] [attributes {...}] { ... }</c>.</summary>
    private sealed class ModuleSyntax : IOpSyntax
    {
        public void Print(Operation op, Printer p)
        {
            p.Write(op.Name);
            if (SymbolTable.GetName(op) is { } name)
            {
                p.Write(' ');
                p.PrintSymbolName(name);
            }

            p.PrintAttrDictWithKeyword(op, SymbolTable.SymNameAttr);
            p.Write(' ');
            p.PrintRegion(op.Regions[0], printEntryArgs: false);
        }

        public Operation Parse(OpParser parser, string name, Location location)
        {
            var s = new OperationState(name, location);
            if (parser.Peek().Kind == TokenKind.SymbolId)
            {
                s.AddAttr(SymbolTable.SymNameAttr, new StringAttr(parser.ParseSymbolName("as module name")));
            }

            if (parser.TryKeyword("attributes"))
            {
                s.Attributes.AddRange(parser.ParseAttrDict());
            }

            var region = new Region();
            parser.ParseRegion(region, null, isolated: true);
            if (region.IsEmpty)
            {
                region.AddBlock();
            }

            s.Regions.Add(region);
            return Operation.Create(parser.Context, s);
        }
    }
}
