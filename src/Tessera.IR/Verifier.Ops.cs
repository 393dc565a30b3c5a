namespace Tessera.IR;

/// <summary>Checks of one op against its declaration and traits.</summary>
internal sealed partial class VerifierRun
{
    private const int MaxAttrTextLength = 80;

    /// <summary>An op's operand or result groups, flattened once per <see cref="OpDef"/>.</summary>
    private sealed class Groups
    {
        public Groups(IEnumerable<(string Name, TypeConstraint C, Arity Arity)> groups)
        {
            Items = groups.ToArray();
            Fixed = Items.Count(g => g.Arity == Arity.Single);
            Optional = Items.Any(g => g.Arity == Arity.Optional);
            Variadic = Items.Any(g => g.Arity == Arity.Variadic);
        }

        public (string Name, TypeConstraint C, Arity Arity)[] Items { get; }
        public int Fixed { get; }
        public bool Optional { get; }
        public bool Variadic { get; }
    }

    private readonly Dictionary<OpDef, (Groups Operands, Groups Results)> _groups = new(ReferenceEqualityComparer.Instance);

    /// <summary>Count, then each type against its group's constraint; same layout as <see cref="OpDef.OperandRange"/>.</summary>
    private void CheckGroupTypes(Operation op, Groups groups, int count, Func<int, Type?> typeAt, string kind, string code)
    {
        if (!CheckCount(op, groups, count, kind, code))
        {
            return;
        }

        // The one non-single group takes what the others leave.
        int rest = count - groups.Fixed;
        int i = 0;
        foreach (var (name, constraint, arity) in groups.Items)
        {
            int end = i + (arity == Arity.Single ? 1 : rest);
            for (; i < end && !_stopped; i++)
            {
                if (typeAt(i) is { } t && !constraint.IsSatisfiedBy(t))
                {
                    Error(code, $"'{op.Name}' {kind} #{Num(i)} ('{name}') must be {constraint.Description}, but got {t.Text}", op);
                }
            }
        }
    }

    private void CheckDeclaration(Operation op, OpDef def)
    {
        if (!_groups.TryGetValue(def, out var groups))
        {
            groups = (new Groups(def.Operands.Select(g => (g.Name, g.Constraint, g.Arity))),
                new Groups(def.Results.Select(g => (g.Name, g.Constraint, g.Arity))));
            _groups[def] = groups;
        }

        CheckGroupTypes(op, groups.Operands, op.NumOperands, i => op.OpOperands[i].Value?.Type, "operand", DiagnosticCodes.VerifyOperands);
        CheckGroupTypes(op, groups.Results, op.NumResults, i => op.Result(i).Type, "result", DiagnosticCodes.VerifyResults);

        // Attributes, in declaration order.
        foreach (var a in def.Attributes)
        {
            var value = op.GetAttr(a.Name);
            if (value is null)
            {
                if (!a.Optional)
                {
                    Error(DiagnosticCodes.VerifyAttribute, $"'{op.Name}' requires attribute '{a.Name}' ({a.Constraint.Description})", op);
                }
            }
            else if (!a.Constraint.IsSatisfiedBy(value))
            {
                var text = value.Text;
                if (text.Length > MaxAttrTextLength)
                {
                    text = text[..(MaxAttrTextLength - 3)] + "...";
                }

                Error(DiagnosticCodes.VerifyAttribute,
                    $"'{op.Name}' attribute '{a.Name}' must be {a.Constraint.Description}, but got {text}", op);
            }
        }

        if (def.NumRegions is { } nr && op.Regions.Count != nr)
        {
            Error(DiagnosticCodes.VerifyRegions, $"'{op.Name}' expects {Plural(nr, "region")}, but has {Num(op.Regions.Count)}", op);
        }

        if (def.NumSuccessors is { } ns && op.Successors.Count != ns)
        {
            Error(DiagnosticCodes.VerifySuccessors, $"'{op.Name}' expects {Plural(ns, "successor")}, but has {Num(op.Successors.Count)}", op);
        }
    }

    /// <summary>Checks <paramref name="actual"/> against the groups' arities (at most one group is optional or variadic).</summary>
    private bool CheckCount(Operation op, Groups groups, int actual, string what, string code)
    {
        int fixedCount = groups.Fixed;
        string? expected = null;
        if (groups.Variadic)
        {
            if (actual < fixedCount)
            {
                expected = "at least " + Plural(fixedCount, what);
            }
        }
        else if (groups.Optional)
        {
            if (actual != fixedCount && actual != fixedCount + 1)
            {
                expected = $"{Num(fixedCount)} or {Plural(fixedCount + 1, what)}";
            }
        }
        else if (actual != fixedCount)
        {
            expected = Plural(fixedCount, what);
        }

        if (expected is null)
        {
            return true;
        }

        Error(code, $"'{op.Name}' expects {expected}, but got {Num(actual)}", op);
        return false;
    }

    private void CheckTraits(Operation op, OpDef def)
    {
        var traits = def.Traits;
        if ((traits & OpTraits.SameOperandsAndResultType) != 0 && !AllSame(op, SameType))
        {
            Error(DiagnosticCodes.VerifyOperands, $"'{op.Name}' requires the same type for all operands and results", op);
        }

        if ((traits & OpTraits.SameOperandsAndResultShape) != 0 && !AllSame(op, CompatibleShapes))
        {
            Error(DiagnosticCodes.VerifyOperands, $"'{op.Name}' requires the same shape for all operands and results", op);
        }

        if ((traits & OpTraits.Terminator) != 0 && op.ParentBlock is not null && op.NextInBlock is not null)
        {
            Error(DiagnosticCodes.VerifyTerminator, $"'{op.Name}' is a terminator and must be the last operation in its block", op);
        }

        if ((traits & OpTraits.SingleBlock) != 0)
        {
            for (int r = 0; r < op.Regions.Count; r++)
            {
                if (op.Regions[r].Blocks.Count > 1)
                {
                    Error(DiagnosticCodes.VerifyRegions,
                        $"'{op.Name}' expects region #{Num(r)} to have at most 1 block, but it has {Num(op.Regions[r].Blocks.Count)}", op);
                }
            }
        }

        if ((traits & OpTraits.Symbol) != 0 && op.GetAttr(SymbolTable.SymNameAttr) is not StringAttr)
        {
            Error(DiagnosticCodes.VerifySymbol, $"'{op.Name}' requires a '{SymbolTable.SymNameAttr}' string attribute", op);
        }

        if ((traits & OpTraits.SymbolTable) != 0)
        {
            CheckSymbolTable(op);
        }

        if (def.ParentOp is { } parentName && op.ParentOp?.Name != parentName)
        {
            var actual = op.ParentOp is { } p ? $"'{p.Name}'" : "none";
            Error(DiagnosticCodes.VerifyRegions, $"'{op.Name}' expects parent op '{parentName}', but its parent is {actual}", op);
        }
    }

    private void CheckSymbolTable(Operation op)
    {
        var seen = new Dictionary<string, Operation>(StringComparer.Ordinal);
        foreach (var region in op.Regions)
        {
            foreach (var block in region.Blocks)
            {
                for (var child = block.First; child is not null && !_stopped; child = child.NextInBlock)
                {
                    if (child.GetAttr(SymbolTable.SymNameAttr) is not StringAttr name)
                    {
                        continue;
                    }

                    if (!seen.TryAdd(name.Value, child))
                    {
                        var first = seen[name.Value];
                        Error(DiagnosticCodes.VerifySymbol, $"redefinition of symbol '{name.Value}' in '{op.Name}'", child,
                            "see existing symbol definition here", first.Location);
                    }
                }
            }
        }
    }

    /// <summary>True if every non-null operand and result type is related to the first by <paramref name="same"/>.</summary>
    private static bool AllSame(Operation op, Func<Type, Type, bool> same)
    {
        Type? first = null;
        int n = op.OpOperands.Count;
        for (int i = 0; i < n + op.Results.Count; i++)
        {
            var t = i < n ? op.OpOperands[i].Value?.Type : op.Results[i - n].Type;
            if (t is null)
            {
                continue;
            }

            if (first is null)
            {
                first = t;
            }
            else if (!same(first, t))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameType(Type a, Type b) => a == b;

    /// <summary>Like MLIR's verifyCompatibleShape: unranked matches any rank, a dynamic dimension matches any size.</summary>
    private static bool CompatibleShapes(Type a, Type b)
    {
        if (a is not ShapedType sa || b is not ShapedType sb)
        {
            return a is not ShapedType && b is not ShapedType;
        }

        if (sa.Shape is not { } da || sb.Shape is not { } db)
        {
            return true;
        }

        if (da.Count != db.Count)
        {
            return false;
        }

        for (int i = 0; i < da.Count; i++)
        {
            if (!da[i].IsDynamic && !db[i].IsDynamic && da[i].Size != db[i].Size)
            {
                return false;
            }
        }

        return true;
    }
}
