using System.Globalization;

namespace Tessera.IR;

public sealed partial class OpParser
{
    private sealed class ValueScope(bool isolated)
    {
        public readonly bool Isolated = isolated;
        public readonly Dictionary<string, Value> Defs = new(StringComparer.Ordinal);
        public readonly Dictionary<string, (Value Placeholder, int Offset)> Forward = new(StringComparer.Ordinal);
        public readonly List<string> ForwardOrder = [];
    }

    private sealed class BlockScope
    {
        public readonly Dictionary<string, (Block Block, int Offset, bool Defined)> Blocks = new(StringComparer.Ordinal);
        public readonly List<string> Order = [];
    }

    private readonly List<ValueScope> _scopes = [];
    private readonly List<BlockScope> _blockScopes = [];

    internal Operation ParseTopLevel()
    {
        var holder = new Block();
        _scopes.Add(new ValueScope(isolated: true));
        _blockScopes.Add(new BlockScope());
        while (_lx.Peek().Kind != TokenKind.Eof)
        {
            ParseOperationInto(holder);
        }

        CloseScope();
        _blockScopes.RemoveAt(_blockScopes.Count - 1);
        if (holder.Count == 1 && holder.First!.Name == "builtin.module")
        {
            var m = holder.First;
            m.Remove();
            return m;
        }

        var module = Operation.Create(Context, new OperationState("builtin.module", _lx.LocationAt(0)) { NumRegions = 1 });
        var body = module.Regions[0].AddBlock();
        holder.MoveOpsTo(holder.First, body);
        return module;
    }

    // ---- values ----

    private Value ResolveValue(Token name, Type type)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
        {
            if (_scopes[i].Defs.TryGetValue(name.Text, out var v))
            {
                if (v.Type != type)
                {
                    throw Error(DiagnosticCodes.ParseTypeMismatch, $"use of value '{name.Text}' expects type {type} but it is defined with type {v.Type}", name.Offset);
                }

                return v;
            }

            if (_scopes[i].Isolated)
            {
                break;
            }
        }

        var scope = _scopes[^1];
        if (scope.Forward.TryGetValue(name.Text, out var fwd))
        {
            if (fwd.Placeholder.Type != type)
            {
                throw Error(DiagnosticCodes.ParseTypeMismatch, $"use of value '{name.Text}' expects type {type} but an earlier use has type {fwd.Placeholder.Type}", name.Offset);
            }

            return fwd.Placeholder;
        }

        var placeholder = Operation.Create(Context, new OperationState("builtin.forward_ref", Location.Unknown).AddTypes(type)).Result(0);
        scope.Forward[name.Text] = (placeholder, name.Offset);
        scope.ForwardOrder.Add(name.Text);
        return placeholder;
    }

    private void DefineValue(string name, Value value, int offset)
    {
        var scope = _scopes[^1];
        if (!scope.Defs.TryAdd(name, value))
        {
            throw Error(DiagnosticCodes.ParseRedefinition, $"redefinition of value '{name}'", offset);
        }

        int hash = name.IndexOf('#');
        var hint = hash < 0 ? name[1..] : name[1..hash];
        if (Printer.IsValidHint(hint))
        {
            value.NameHint = hint;
        }

        if (scope.Forward.Remove(name, out var fwd))
        {
            if (fwd.Placeholder.Type != value.Type)
            {
                throw Error(DiagnosticCodes.ParseTypeMismatch, $"value '{name}' is defined with type {value.Type} but was used earlier as {fwd.Placeholder.Type}", offset);
            }

            fwd.Placeholder.ReplaceAllUsesWith(value);
        }
    }

    private void CloseScope()
    {
        var scope = _scopes[^1];
        _scopes.RemoveAt(_scopes.Count - 1);
        foreach (var name in scope.ForwardOrder)
        {
            if (!scope.Forward.TryGetValue(name, out var fwd))
            {
                continue;
            }

            if (scope.Isolated || _scopes.Count == 0)
            {
                throw Error(DiagnosticCodes.ParseUndefinedValue, $"use of undefined value '{name}'", fwd.Offset);
            }

            // Still unresolved: it may be defined later in the enclosing region.
            var parent = _scopes[^1];
            if (parent.Forward.TryGetValue(name, out var outer))
            {
                if (outer.Placeholder.Type != fwd.Placeholder.Type)
                {
                    throw Error(DiagnosticCodes.ParseTypeMismatch, $"use of value '{name}' expects type {fwd.Placeholder.Type} but an earlier use has type {outer.Placeholder.Type}", fwd.Offset);
                }

                fwd.Placeholder.ReplaceAllUsesWith(outer.Placeholder);
            }
            else
            {
                parent.Forward[name] = fwd;
                parent.ForwardOrder.Add(name);
            }
        }
    }

    /// <summary>Parses <c>%name</c> and resolves it with the given type (forward references allowed).</summary>
    public Value ParseOperand(Type type, string context)
    {
        var t = _lx.Next();
        if (t.Kind != TokenKind.ValueId)
        {
            throw Error(DiagnosticCodes.ParseExpected, $"expected SSA value {context}, found {t.Describe()}", t.Offset);
        }

        return ResolveValue(t, type);
    }

    /// <summary>Reads a <c>%name</c> token without resolving it, for syntaxes whose types come later.</summary>
    public Token ParseOperandName(string context)
    {
        var t = _lx.Next();
        if (t.Kind != TokenKind.ValueId)
        {
            throw Error(DiagnosticCodes.ParseExpected, $"expected SSA value {context}, found {t.Describe()}", t.Offset);
        }

        return t;
    }

    public Value Resolve(Token name, Type type) => ResolveValue(name, type);

    // ---- blocks and regions ----

    private Block BlockRef(Token name, bool define)
    {
        var bs = _blockScopes[^1];
        if (bs.Blocks.TryGetValue(name.Text, out var entry))
        {
            if (define)
            {
                if (entry.Defined)
                {
                    throw Error(DiagnosticCodes.ParseRedefinition, $"redefinition of block '{name.Text}'", name.Offset);
                }

                bs.Blocks[name.Text] = (entry.Block, entry.Offset, true);
            }

            return entry.Block;
        }

        var b = new Block();
        bs.Blocks[name.Text] = (b, name.Offset, define);
        bs.Order.Add(name.Text);
        return b;
    }

    /// <summary>A declared argument: <c>%name: type</c> with an optional <c>loc(...)</c>.</summary>
    public (Token Name, Type Type, Location? Loc) ParseArgumentDecl(string context)
    {
        var n = ParseOperandName(context);
        ExpectPunct(":", "after argument name");
        var type = ParseType("of argument");
        Location? loc = _lx.Peek().Is("loc") ? ParseLocation() : null;
        return (n, type, loc);
    }

    /// <summary>
    /// Parses <c>{ ... }</c> into <paramref name="region"/>. When <paramref name="entryArgs"/> is given (a function
    /// signature), they become the entry block's arguments.
    /// </summary>
    public void ParseRegion(Region region, IReadOnlyList<(Token Name, Type Type, Location? Loc)>? entryArgs, bool isolated)
    {
        ExpectPunct("{", "to start region");
        Enter();
        _scopes.Add(new ValueScope(isolated));
        _blockScopes.Add(new BlockScope());
        Block? current = null;
        if (entryArgs is not null)
        {
            current = region.AddBlock();
            foreach (var (name, type, loc) in entryArgs)
            {
                DefineValue(name.Text, current.AddArgument(type, loc ?? _lx.LocationAt(name.Offset)), name.Offset);
            }
        }

        while (!TryPunct("}"))
        {
            var t = _lx.Peek();
            if (t.Kind == TokenKind.Eof)
            {
                throw Expected("'}'", "to close region");
            }

            if (t.Kind == TokenKind.BlockId)
            {
                _lx.Next();
                var block = BlockRef(t, define: true);
                if (entryArgs is not null && region.Blocks.Count == 1 && current!.IsEmpty && current.Arguments.Count > 0)
                {
                    throw Error(DiagnosticCodes.ParseRedefinition, "the entry block's arguments are declared by the op; it cannot have a label", t.Offset);
                }

                region.AddBlock(block);
                if (TryPunct("("))
                {
                    if (!TryPunct(")"))
                    {
                        do
                        {
                            var (n, type, loc) = ParseArgumentDecl("in block arguments");
                            DefineValue(n.Text, block.AddArgument(type, loc ?? _lx.LocationAt(n.Offset)), n.Offset);
                        }
                        while (TryPunct(","));
                        ExpectPunct(")", "to close block arguments");
                    }
                }

                ExpectPunct(":", "after block label");
                current = block;
                continue;
            }

            current ??= region.AddBlock();
            ParseOperationInto(current);
        }

        var bs = _blockScopes[^1];
        foreach (var name in bs.Order)
        {
            var (_, offset, defined) = bs.Blocks[name];
            if (!defined)
            {
                throw Error(DiagnosticCodes.ParseUndefinedBlock, $"reference to undefined block '{name}'", offset);
            }
        }

        _blockScopes.RemoveAt(_blockScopes.Count - 1);
        CloseScope();
        Leave();
    }

    // ---- operations ----

    private void ParseOperationInto(Block block)
    {
        var start = _lx.Peek();
        var resultName = default(Token);
        int declared = 0;
        if (start.Kind == TokenKind.ValueId)
        {
            resultName = _lx.Next();
            if (resultName.Text.Contains('#'))
            {
                throw Error(DiagnosticCodes.ParseExpected, "a result name cannot have a '#' index", resultName.Offset);
            }

            declared = 1;
            if (TryPunct(":"))
            {
                declared = checked((int)ParseInteger("as result count"));
                if (declared < 1)
                {
                    throw Error(DiagnosticCodes.ParseExpected, "result count must be at least 1", resultName.Offset);
                }
            }

            ExpectPunct("=", "after result name");
        }

        var nameTok = _lx.Next();
        if (nameTok.Kind is not (TokenKind.BareId or TokenKind.String) || !nameTok.Text.Contains('.'))
        {
            throw Error(DiagnosticCodes.ParseExpected, $"expected operation name like 'dialect.op', found {nameTok.Describe()}", nameTok.Offset);
        }

        var loc = _lx.LocationAt(start.Offset);
        var def = Context.Lookup(nameTok.Text);
        if (def is null && !Context.AllowUnregistered)
        {
            throw Error(DiagnosticCodes.ParseUnknownOp, $"unknown operation '{nameTok.Text}' (dialect '{nameTok.Text.Split('.')[0]}' has no such op, or is not registered; --allow-unregistered-dialect accepts it in generic form)", nameTok.Offset);
        }

        int outerDeclared = DeclaredResultCount;
        DeclaredResultCount = declared;
        var op = def?.Syntax is { } syntax && nameTok.Kind == TokenKind.BareId
            ? syntax.Parse(this, nameTok.Text, loc)
            : ParseGeneric(nameTok.Text, def, loc);
        DeclaredResultCount = outerDeclared;
        if (_lx.Peek().Is("loc"))
        {
            op.Location = ParseLocation();
        }

        if (op.NumResults != declared)
        {
            throw Error(DiagnosticCodes.ParseTypeMismatch, $"operation '{nameTok.Text}' has {op.NumResults} result(s) but {declared} name(s) were given", start.Offset);
        }

        if (declared == 1)
        {
            DefineValue(resultName.Text, op.Result(0), resultName.Offset);
        }
        else
        {
            for (int i = 0; i < declared; i++)
            {
                DefineValue(resultName.Text + "#" + i.ToString(CultureInfo.InvariantCulture), op.Result(i), resultName.Offset);
            }
        }

        block.Append(op);
    }

    private Operation ParseGeneric(string name, OpDef? def, Location loc)
    {
        var operandNames = new List<Token>();
        if (_lx.Peek().Is("(") && !NextIsRegionList())
        {
            _lx.Next();
            if (!TryPunct(")"))
            {
                do
                {
                    operandNames.Add(ParseOperandName("in operand list"));
                }
                while (TryPunct(","));
                ExpectPunct(")", "to close operand list");
            }
        }

        var successors = new List<(Block, List<Value>)>();
        if (TryPunct("["))
        {
            do
            {
                successors.Add(ParseSuccessor());
            }
            while (TryPunct(","));
            ExpectPunct("]", "to close successor list");
        }

        var regions = new List<Region>();
        if (_lx.Peek().Is("(") && NextIsRegionList())
        {
            _lx.Next();
            bool isolated = def is not null && (def.Traits & OpTraits.IsolatedFromAbove) != 0;
            do
            {
                var r = new Region();
                ParseRegion(r, null, isolated);
                regions.Add(r);
            }
            while (TryPunct(","));
            ExpectPunct(")", "to close region list");
        }

        var attrs = _lx.Peek().Is("{") ? ParseAttrDict() : [];
        var (operandTypes, resultTypes) = ParseSignature(operandNames.Count, name);
        var state = new OperationState(name, loc);
        for (int i = 0; i < operandNames.Count; i++)
        {
            state.Operands.Add(ResolveValue(operandNames[i], operandTypes[i]));
        }

        state.ResultTypes.AddRange(resultTypes);
        state.Attributes.AddRange(attrs);
        state.Regions.AddRange(regions);
        state.Successors.AddRange(successors);
        return Operation.Create(Context, state);
    }

    private bool NextIsRegionList()
    {
        int save = _lx.Pos;
        _lx.Next();
        bool r = _lx.Peek().Is("{");
        _lx.Pos = save;
        return r;
    }

    public (Block, List<Value>) ParseSuccessor()
    {
        var t = _lx.Next();
        if (t.Kind != TokenKind.BlockId)
        {
            throw Error(DiagnosticCodes.ParseExpected, $"expected block name like ^bb1, found {t.Describe()}", t.Offset);
        }

        var block = BlockRef(t, define: false);
        var args = new List<Value>();
        if (TryPunct("("))
        {
            var names = new List<Token>();
            do
            {
                names.Add(ParseOperandName("in successor arguments"));
            }
            while (TryPunct(","));
            ExpectPunct(":", "before successor argument types");
            var types = new List<Type>();
            do
            {
                types.Add(ParseType("of successor argument"));
            }
            while (TryPunct(","));
            ExpectPunct(")", "to close successor arguments");
            if (types.Count != names.Count)
            {
                throw Error(DiagnosticCodes.ParseTypeMismatch, $"{names.Count} successor argument(s) but {types.Count} type(s)", t.Offset);
            }

            for (int i = 0; i < names.Count; i++)
            {
                args.Add(ResolveValue(names[i], types[i]));
            }
        }

        return (block, args);
    }

    /// <summary>Reads <c>: T</c> (every operand and result has type T) or <c>: (A, B) -> C</c>; nothing means no operands and no results.</summary>
    public (List<Type> Operands, List<Type> Results) ParseSignature(int numOperands, string opName)
    {
        if (!TryPunct(":"))
        {
            if (numOperands > 0 || DeclaredResultCount > 0)
            {
                throw Expected("':' and the operand types", $"for '{opName}'");
            }

            return ([], []);
        }

        int at = _lx.Peek().Offset;
        if (_lx.Peek().Is("(") && LooksLikeFunctionType())
        {
            var ft = ParseFunctionType($"for '{opName}'");
            if (ft.Inputs.Count != numOperands)
            {
                throw Error(DiagnosticCodes.ParseTypeMismatch, $"'{opName}' has {numOperands} operand(s) but its signature lists {ft.Inputs.Count} type(s)", at);
            }

            return (ft.Inputs.ToList(), ft.Results.ToList());
        }

        var t = ParseType($"for '{opName}'");
        return (Enumerable.Repeat(t, numOperands).ToList(), ResultsOfUniformType(t));
    }

    // The result count of a ': T' signature is the number of names on the left of '='.
    private List<Type> ResultsOfUniformType(Type t) => Enumerable.Repeat(t, DeclaredResultCount).ToList();

    /// <summary>How many results the op being parsed was given names for.</summary>
    public int DeclaredResultCount { get; private set; }
}
