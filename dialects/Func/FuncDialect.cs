using Tessera.IR;

namespace Tessera.Dialects;

public sealed class FuncDialect : Dialect
{
    public override string Name => "func";

    public const string FunctionTypeAttr = "function_type";
    public const string CalleeAttr = "callee";

    public static readonly OpDef Func = OpDef.Define("func.func", "a function: a symbol with a body region")
        .Attr(SymbolTable.SymNameAttr, AC.String)
        .Attr(FunctionTypeAttr, AC.FunctionType)
        .OptionalAttr(SymbolTable.VisibilityAttr, AC.OneOf("public", "private", "nested"))
        .With(OpTraits.IsolatedFromAbove | OpTraits.Symbol)
        .Regions(1)
        .Verify(VerifyFunc)
        .CustomSyntax(new FuncSyntax());

    public static readonly OpDef Return = OpDef.Define("func.return", "returns from a function")
        .VariadicOperand("operands", TC.Any)
        .With(OpTraits.Pure | OpTraits.Terminator | OpTraits.ReturnLike)
        .HasParent("func.func")
        .Verify(VerifyReturn);

    public static readonly OpDef Call = OpDef.Define("func.call", "calls a function in the same symbol table")
        .VariadicOperand("operands", TC.Any)
        .VariadicResult("results", TC.Any)
        .Attr(CalleeAttr, AC.FlatSymbolRef)
        .Verify(VerifyCall);

    public override IEnumerable<OpDef> Ops => [Func, Return, Call];

    public static FunctionType? TypeOf(Operation func) => (func.GetAttr<TypeAttr>(FunctionTypeAttr))?.Value as FunctionType;

    private static string? VerifyFunc(Operation op)
    {
        if (TypeOf(op) is not { } ft)
        {
            return null;
        }

        var body = op.Regions[0];
        if (body.IsEmpty)
        {
            return SymbolTable.IsPrivate(op) ? null : "a function declaration (no body) must be private";
        }

        var args = body.Blocks[0].Arguments;
        if (args.Count != ft.Inputs.Count)
        {
            return $"entry block has {args.Count} argument(s) but the function type has {ft.Inputs.Count} input(s)";
        }

        for (int i = 0; i < args.Count; i++)
        {
            if (args[i].Type != ft.Inputs[i])
            {
                return $"entry block argument #{i} has type {args[i].Type} but the function type says {ft.Inputs[i]}";
            }
        }

        return null;
    }

    private static string? VerifyReturn(Operation op)
    {
        if (op.ParentOp is not { Name: "func.func" } func || TypeOf(func) is not { } ft)
        {
            return null;
        }

        var types = op.Operands.Select(v => v?.Type).ToList();
        if (types.Count != ft.Results.Count)
        {
            return $"returns {types.Count} value(s) but the enclosing function '@{SymbolTable.GetName(func)}' returns {ft.Results.Count}";
        }

        for (int i = 0; i < types.Count; i++)
        {
            if (types[i] != ft.Results[i])
            {
                return $"return operand #{i} has type {types[i]} but the function result #{i} is {ft.Results[i]}";
            }
        }

        return null;
    }

    private static string? VerifyCall(Operation op)
    {
        if (op.GetAttr<SymbolRefAttr>(CalleeAttr) is not { } callee)
        {
            return null;
        }

        var target = SymbolTable.Resolve(op, callee);
        if (target is null)
        {
            return $"no function named {AttributePrinter.SymbolName(callee.Root)} in the symbol table";
        }

        if (target.Name != Func.Name || TypeOf(target) is not { } ft)
        {
            return $"{AttributePrinter.SymbolName(callee.Root)} is not a func.func";
        }

        var ins = op.Operands.Select(v => v?.Type).ToList();
        var outs = op.Results.Select(r => r.Type).ToList();
        if (!ins.SequenceEqual(ft.Inputs) || !outs.SequenceEqual(ft.Results))
        {
            return $"call signature ({string.Join(", ", ins)}) -> ({string.Join(", ", outs)}) does not match {AttributePrinter.SymbolName(callee.Root)} of type {ft}";
        }

        return null;
    }

    /// <summary><c>func.func [private] @name(%arg0: T, ...) [-> R] [attributes {...}] [{ body }]</c>; declarations list only types.</summary>
    private sealed class FuncSyntax : IOpSyntax
    {
        public void Print(Operation op, Printer p)
        {
            p.Write(op.Name).Write(' ');
            if (op.GetAttr<StringAttr>(SymbolTable.VisibilityAttr) is { } vis && vis.Value != "public")
            {
                p.Write(vis.Value).Write(' ');
            }

            p.PrintSymbolName(SymbolTable.GetName(op) ?? "");
            var ft = TypeOf(op) ?? new FunctionType([], []);
            var body = op.Regions[0];
            p.Write('(');
            if (body.IsEmpty)
            {
                p.Write(string.Join(", ", ft.Inputs.Select(t => t.Text)));
            }
            else
            {
                var args = body.Blocks[0].Arguments;
                for (int i = 0; i < args.Count; i++)
                {
                    if (i > 0)
                    {
                        p.Write(", ");
                    }

                    p.PrintArgumentDecl(args[i]);
                }
            }

            p.Write(')');
            if (ft.Results.Count > 0)
            {
                p.Write(" -> ");
                p.Write(ft.Results.Count == 1 && ft.Results[0] is not FunctionType
                    ? ft.Results[0].Text
                    : "(" + string.Join(", ", ft.Results.Select(t => t.Text)) + ")");
            }

            p.PrintAttrDictWithKeyword(op, SymbolTable.SymNameAttr, FunctionTypeAttr, SymbolTable.VisibilityAttr);
            if (!body.IsEmpty)
            {
                p.Write(' ');
                p.PrintRegion(body, printEntryArgs: false);
            }
        }

        public Operation Parse(OpParser parser, string name, Location location)
        {
            var s = new OperationState(name, location);
            if (parser.TryKeyword("private"))
            {
                s.AddAttr(SymbolTable.VisibilityAttr, new StringAttr("private"));
            }
            else if (parser.TryKeyword("nested"))
            {
                s.AddAttr(SymbolTable.VisibilityAttr, new StringAttr("nested"));
            }
            else
            {
                parser.TryKeyword("public");
            }

            s.AddAttr(SymbolTable.SymNameAttr, new StringAttr(parser.ParseSymbolName("as function name")));
            parser.ExpectPunct("(", "to start function arguments");
            var args = new List<(Token, Type, Location?)>();
            var inputs = new List<Type>();
            bool named = parser.Peek().Kind == TokenKind.ValueId;
            if (!parser.TryPunct(")"))
            {
                do
                {
                    if (named)
                    {
                        var a = parser.ParseArgumentDecl("in function arguments");
                        args.Add(a);
                        inputs.Add(a.Type);
                    }
                    else
                    {
                        inputs.Add(parser.ParseType("in function argument types"));
                    }
                }
                while (parser.TryPunct(","));
                parser.ExpectPunct(")", "to close function arguments");
            }

            var results = parser.TryPunct("->") ? parser.ParseResultTypeList("in function results") : [];
            s.AddAttr(FunctionTypeAttr, new TypeAttr(new FunctionType(inputs, results)));
            if (parser.TryKeyword("attributes"))
            {
                s.Attributes.AddRange(parser.ParseAttrDict());
            }

            var region = new Region();
            if (parser.Peek().Is("{"))
            {
                if (!named && inputs.Count > 0)
                {
                    throw parser.Error(DiagnosticCodes.ParseExpected, "a function with a body needs named arguments like %arg0: i32");
                }

                parser.ParseRegion(region, args, isolated: true);
                if (region.IsEmpty)
                {
                    region.AddBlock();
                }
            }

            s.Regions.Add(region);
            return Operation.Create(parser.Context, s);
        }
    }
}
