using System.Globalization;
using System.Text;

namespace Tessera.IR;

/// <summary>
/// Prints ops in the generic form, or in an op's custom syntax where it has one.
/// SSA names are assigned per IsolatedFromAbove scope before printing, so forward references print correctly.
/// Recursion is only over region nesting, which is bounded by <see cref="PrintOptions.MaxNesting"/>.
/// </summary>
public sealed class Printer
{
    private readonly StringBuilder _sb = new();
    private readonly Dictionary<Value, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Block, string> _blockNames = new(ReferenceEqualityComparer.Instance);
    private int _indent;
    private int _depth;

    public Printer(PrintOptions options) { Options = options; }

    public PrintOptions Options { get; }

    public static string PrintOp(Operation op, PrintOptions? options = null)
    {
        var p = new Printer(options ?? PrintOptions.Default);
        p.NameScope(op, includeRoot: true);
        p.PrintOperation(op);
        p._sb.Append('\n');
        return p._sb.ToString();
    }

    public override string ToString() => _sb.ToString();

    // ---- naming ----

    private sealed class Scope
    {
        public readonly HashSet<string> Used = new(StringComparer.Ordinal);
        public int NextValue;
        public int NextArg;
    }

    /// <summary>Names every value in the scope rooted at <paramref name="root"/>, stopping at nested isolated ops.</summary>
    private void NameScope(Operation root, bool includeRoot)
    {
        var scope = new Scope();
        var stack = new Stack<Operation>();
        if (includeRoot)
        {
            NameResults(root, scope);
        }

        PushChildrenBlocks(root, stack, scope);
        while (stack.Count > 0)
        {
            var op = stack.Pop();
            NameResults(op, scope);
            if (!op.HasTrait(OpTraits.IsolatedFromAbove))
            {
                PushChildrenBlocks(op, stack, scope);
            }
        }
    }

    private void PushChildrenBlocks(Operation op, Stack<Operation> stack, Scope scope)
    {
        // Blocks are named in order when their op is reached, so arguments get %arg numbers in print order.
        var ops = new List<Operation>();
        foreach (var region in op.Regions)
        {
            int bb = 0;
            foreach (var block in region.Blocks)
            {
                _blockNames[block] = "^bb" + (bb++).ToString(CultureInfo.InvariantCulture);
                foreach (var a in block.Arguments)
                {
                    _names[a] = Unique(scope, a.NameHint, "arg", ref scope.NextArg);
                }

                ops.AddRange(block.Operations);
            }
        }

        for (int i = ops.Count - 1; i >= 0; i--)
        {
            stack.Push(ops[i]);
        }
    }

    private void NameResults(Operation op, Scope scope)
    {
        if (op.NumResults == 0)
        {
            return;
        }

        var name = Unique(scope, op.Result(0).NameHint, "", ref scope.NextValue);
        for (int i = 0; i < op.NumResults; i++)
        {
            _names[op.Result(i)] = op.NumResults == 1 ? name : name + "#" + i.ToString(CultureInfo.InvariantCulture);
        }

        _groupNames[op] = name;
    }

    private readonly Dictionary<Operation, string> _groupNames = new(ReferenceEqualityComparer.Instance);

    private static string Unique(Scope scope, string? hint, string prefix, ref int counter)
    {
        if (hint is not null && IsValidHint(hint))
        {
            var candidate = "%" + hint;
            for (int k = 1; !scope.Used.Add(candidate); k++)
            {
                candidate = "%" + hint + "_" + k.ToString(CultureInfo.InvariantCulture);
            }

            return candidate;
        }

        string n;
        do
        {
            n = "%" + prefix + (counter++).ToString(CultureInfo.InvariantCulture);
        }
        while (!scope.Used.Add(n));
        return n;
    }

    /// <summary>Hints that look like generated names (%12, %arg3) are dropped so numbering stays stable.</summary>
    public static bool IsValidHint(string hint)
    {
        if (hint.Length == 0 || !(char.IsAsciiLetter(hint[0]) || hint[0] == '_'))
        {
            return false;
        }

        if (hint.StartsWith("arg", StringComparison.Ordinal) && hint.Length > 3 && hint[3..].All(char.IsAsciiDigit))
        {
            return false;
        }

        return hint.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '.');
    }

    // ---- public API for custom syntax ----

    public Printer Write(string s) { _sb.Append(s); return this; }
    public Printer Write(char c) { _sb.Append(c); return this; }

    public string NameOf(Value? v) => v is null ? "<<null>>" : _names.TryGetValue(v, out var n) ? n : "<<unknown value>>";

    public void PrintValue(Value? v) => _sb.Append(NameOf(v));

    public void PrintType(Type t) => _sb.Append(t.Text);

    public void PrintAttribute(Attribute a) => AttributePrinter.Append(_sb, a, Options, 0);

    public void PrintSymbolName(string name) => _sb.Append(AttributePrinter.SymbolName(name));

    /// <summary><c>%arg0: f32</c>.</summary>
    public void PrintArgumentDecl(BlockArgument a)
    {
        _sb.Append(NameOf(a)).Append(": ").Append(a.Type.Text);
        if (Options.DebugInfo)
        {
            _sb.Append(" loc(").Append(a.Location.Text).Append(')');
        }
    }

    /// <summary>Prints <c> attributes {...}</c> for the attributes not in <paramref name="elided"/>, or nothing.</summary>
    public void PrintAttrDictWithKeyword(Operation op, params string[] elided)
    {
        var rest = op.Attributes.Where(kv => !elided.Contains(kv.Key)).ToList();
        if (rest.Count > 0)
        {
            _sb.Append(" attributes ");
            AttributePrinter.AppendDict(_sb, rest, Options, 0);
        }
    }

    public void PrintOptionalAttrDict(Operation op, params string[] elided)
    {
        var rest = op.Attributes.Where(kv => !elided.Contains(kv.Key)).ToList();
        if (rest.Count > 0)
        {
            _sb.Append(' ');
            AttributePrinter.AppendDict(_sb, rest, Options, 0);
        }
    }

    /// <summary>Prints a region in braces. The entry block's label and arguments are left out when <paramref name="printEntryArgs"/> is false.</summary>
    public void PrintRegion(Region region, bool printEntryArgs = true)
    {
        _sb.Append('{');
        if (_depth >= Options.MaxNesting)
        {
            _sb.Append(" <<nesting limit exceeded>> }");
            return;
        }

        _depth++;
        _sb.Append('\n');
        _indent++;
        for (int i = 0; i < region.Blocks.Count; i++)
        {
            var block = region.Blocks[i];
            bool label = i > 0 || (printEntryArgs && block.Arguments.Count > 0);
            if (label)
            {
                PrintBlockLabel(block);
            }

            for (var op = block.First; op is not null; op = op.NextInBlock)
            {
                if (op.HasTrait(OpTraits.IsolatedFromAbove))
                {
                    NameScope(op, includeRoot: false);
                }

                Indent();
                PrintOperation(op);
                _sb.Append('\n');
            }
        }

        _indent--;
        _depth--;
        Indent();
        _sb.Append('}');
    }

    private void PrintBlockLabel(Block block)
    {
        _sb.Append(' ', Math.Max(0, _indent * 2 - 2)).Append(_blockNames[block]);
        if (block.Arguments.Count > 0)
        {
            _sb.Append('(');
            for (int i = 0; i < block.Arguments.Count; i++)
            {
                if (i > 0)
                {
                    _sb.Append(", ");
                }

                PrintArgumentDecl(block.Arguments[i]);
            }

            _sb.Append(')');
        }

        _sb.Append(":\n");
    }

    private void Indent() => _sb.Append(' ', _indent * 2);

    public void PrintResultsPrefix(Operation op)
    {
        if (op.NumResults == 0)
        {
            return;
        }

        _sb.Append(_groupNames.TryGetValue(op, out var g) ? g : "<<unnamed>>");
        if (op.NumResults > 1)
        {
            _sb.Append(':').Append(op.NumResults.ToString(CultureInfo.InvariantCulture));
        }

        _sb.Append(" = ");
    }

    // ---- generic form ----

    private void PrintOperation(Operation op)
    {
        PrintResultsPrefix(op);
        if (!Options.Generic && op.Def?.Syntax is { } syntax)
        {
            syntax.Print(op, this);
        }
        else
        {
            PrintGeneric(op);
        }

        if (Options.DebugInfo)
        {
            _sb.Append(" loc(").Append(op.Location.Text).Append(')');
        }
    }

    private void PrintGeneric(Operation op)
    {
        // Quoted, the name tells the parser to read the generic form even though the op has a custom one.
        _sb.Append(op.Def?.Syntax is null ? op.Name : Escape.Quote(op.Name));
        if (op.NumOperands > 0)
        {
            _sb.Append('(');
            PrintValueList(op.Operands);
            _sb.Append(')');
        }

        if (op.Successors.Count > 0)
        {
            _sb.Append(" [");
            for (int i = 0; i < op.Successors.Count; i++)
            {
                if (i > 0)
                {
                    _sb.Append(", ");
                }

                PrintSuccessor(op.Successors[i]);
            }

            _sb.Append(']');
        }

        if (op.Regions.Count > 0)
        {
            _sb.Append(" (");
            for (int i = 0; i < op.Regions.Count; i++)
            {
                if (i > 0)
                {
                    _sb.Append(", ");
                }

                PrintRegion(op.Regions[i]);
            }

            _sb.Append(')');
        }

        PrintOptionalAttrDict(op);
        PrintSignature(op.Operands.Select(v => v?.Type), op.Results.Select(r => (Type?)r.Type));
    }

    public void PrintSuccessor(Successor s)
    {
        _sb.Append(_blockNames.TryGetValue(s.Target, out var n) ? n : "^<<unknown block>>");
        if (s.Arguments.Count > 0)
        {
            _sb.Append('(');
            PrintValueList(s.ArgumentValues);
            _sb.Append(" : ");
            _sb.AppendJoin(", ", s.ArgumentValues.Select(v => v?.Type.Text ?? "<<null>>"));
            _sb.Append(')');
        }
    }

    public void PrintValueList(IEnumerable<Value?> values)
    {
        bool first = true;
        foreach (var v in values)
        {
            _sb.Append(first ? "" : ", ").Append(NameOf(v));
            first = false;
        }
    }

    /// <summary>
    /// <c> : T</c> when every operand and result has type T, otherwise <c> : (A, B) -> C</c>; nothing when there are neither.
    /// </summary>
    public void PrintSignature(IEnumerable<Type?> operandTypes, IEnumerable<Type?> resultTypes)
    {
        var ins = operandTypes.Select(t => t?.Text ?? "<<null>>").ToList();
        var outs = resultTypes.Select(t => t?.Text ?? "<<null>>").ToList();
        var all = ins.Concat(outs).ToList();
        if (all.Count == 0)
        {
            return;
        }

        _sb.Append(" : ");
        if (all.All(t => t == all[0]) && !all[0].StartsWith('('))
        {
            _sb.Append(all[0]);
            return;
        }

        _sb.Append('(').AppendJoin(", ", ins).Append(") -> ");
        if (outs.Count == 1 && !outs[0].StartsWith('('))
        {
            _sb.Append(outs[0]);
        }
        else
        {
            _sb.Append('(').AppendJoin(", ", outs).Append(')');
        }
    }
}
