namespace Tessera.IR;

/// <summary>Checks of the values an op uses: broken references, successors, isolation and dominance.</summary>
internal sealed partial class VerifierRun
{
    /// <summary>Bound on parent-chain walks, so that a cycle in broken IR cannot hang the verifier.</summary>
    private const int MaxAncestorSteps = 1 << 22;

    /// <summary>Reports null or dangling operands and results without a type.</summary>
    private void CheckValuesIntact(Operation op)
    {
        for (int i = 0; i < op.OpOperands.Count; i++)
        {
            if (BrokenValue(op.OpOperands[i].Value) is { } problem)
            {
                Error(DiagnosticCodes.VerifyBrokenIr, $"operand #{Num(i)} of '{op.Name}' {problem}", op);
            }
        }

        for (int i = 0; i < op.Results.Count; i++)
        {
            if (op.Results[i].Type is null)
            {
                Error(DiagnosticCodes.VerifyBrokenIr, $"result #{Num(i)} of '{op.Name}' has no type", op);
            }
        }
    }

    /// <summary>What is wrong with a used value, or null if it is a proper value.</summary>
    private string? BrokenValue(Value? v)
    {
        switch (v)
        {
            case null:
                return "is null (its reference was dropped)";
            case { Type: null }:
                return "has no type";
            case OpResult r:
                var d = r.Owner;
                if (d.Def is null && d.Name == ForwardRefName)
                {
                    return "refers to an undefined value (an unresolved forward reference)";
                }

                if (d.IsErased)
                {
                    return $"refers to a result of erased operation '{d.Name}'";
                }

                if (d.ParentBlock is null && !ReferenceEquals(d, _root))
                {
                    return $"refers to a result of '{d.Name}', which is not in any block";
                }

                return null;
            case BlockArgument a:
                if (a.Index < 0 || a.Index >= a.Owner.Arguments.Count || !ReferenceEquals(a.Owner.Arguments[a.Index], a))
                {
                    return "refers to an erased block argument";
                }

                if (a.Owner.ParentRegion is null)
                {
                    return "refers to an argument of a block that is not in any region";
                }

                return null;
            default:
                return null;
        }
    }

    private void CheckSuccessors(Operation op)
    {
        if (op.Successors.Count == 0)
        {
            return;
        }

        // Registered terminators get the (single) terminator-placement error from the trait check instead.
        if (op.ParentBlock is not null && op.NextInBlock is not null && !op.HasTrait(OpTraits.Terminator))
        {
            Error(DiagnosticCodes.VerifySuccessors, $"'{op.Name}' has successors, so it must be the last operation in its block", op);
        }

        var region = op.ParentRegion;
        for (int k = 0; k < op.Successors.Count && !_stopped; k++)
        {
            var s = op.Successors[k];
            var target = s.Target;
            bool targetOk = false;
            if (target is null)
            {
                Error(DiagnosticCodes.VerifyBrokenIr, $"successor #{Num(k)} of '{op.Name}' has no target block", op);
            }
            else if (region is null || !IsBlockOf(target, region))
            {
                Error(DiagnosticCodes.VerifySuccessors, $"successor #{Num(k)} of '{op.Name}' is not a block of the region that contains it", op);
            }
            else if (ReferenceEquals(region.Blocks[0], target))
            {
                Error(DiagnosticCodes.VerifySuccessors,
                    $"successor #{Num(k)} of '{op.Name}' is the entry block of its region, which may not have predecessors", op);
            }
            else
            {
                targetOk = true;
            }

            if (targetOk && s.Arguments.Count != target!.Arguments.Count)
            {
                Error(DiagnosticCodes.VerifySuccessors,
                    $"successor #{Num(k)} of '{op.Name}' passes {Plural(s.Arguments.Count, "argument")}, but its block expects {Num(target.Arguments.Count)}", op);
                targetOk = false;
            }

            for (int j = 0; j < s.Arguments.Count; j++)
            {
                var v = s.Arguments[j].Value;
                if (BrokenValue(v) is { } problem)
                {
                    Error(DiagnosticCodes.VerifyBrokenIr, $"successor #{Num(k)} argument #{Num(j)} of '{op.Name}' {problem}", op);
                }
                else if (targetOk && v!.Type != target!.Arguments[j].Type)
                {
                    Error(DiagnosticCodes.VerifySuccessors,
                        $"successor #{Num(k)} argument #{Num(j)} of '{op.Name}' has type {v.Type.Text}, but the block argument has type {TypeText(target.Arguments[j].Type)}", op);
                }
            }
        }
    }

    private bool IsBlockOf(Block b, Region region)
    {
        if (!ReferenceEquals(b.ParentRegion, region))
        {
            return false;
        }

        if (_blockRegion.TryGetValue(b, out var indexed))
        {
            return ReferenceEquals(indexed, region);
        }

        // Only for regions the walk has not indexed (above the root): a linear search, once per successor.
        return region.Blocks.Any(x => ReferenceEquals(x, b));
    }

    /// <summary>Isolation and dominance of every intact value the op uses (operands, then successor arguments).</summary>
    private void CheckUses(Operation op)
    {
        for (int i = 0; i < op.OpOperands.Count && !_stopped; i++)
        {
            if (op.OpOperands[i].Value is { } v && BrokenValue(v) is null)
            {
                CheckUse(op, v, -1, i);
            }
        }

        for (int k = 0; k < op.Successors.Count && !_stopped; k++)
        {
            var args = op.Successors[k].Arguments;
            for (int j = 0; j < args.Count; j++)
            {
                if (args[j].Value is { } v && BrokenValue(v) is null)
                {
                    CheckUse(op, v, k, j);
                }
            }
        }
    }

    /// <summary>Checks one use: operand #<paramref name="index"/>, or argument #<paramref name="index"/> of successor #<paramref name="successor"/> when that is not -1.</summary>
    private void CheckUse(Operation user, Value v, int successor, int index)
    {
        Block? defBlock;
        Operation? defOp = null;
        if (v is BlockArgument arg)
        {
            defBlock = arg.Owner;
        }
        else if (v is OpResult result)
        {
            defOp = result.Owner;
            defBlock = defOp.ParentBlock;
        }
        else
        {
            return;
        }

        // Find the user's ancestor in the value's region, noting the first isolated-from-above op (at or below the
        // root) crossed on the way up.
        var region = defBlock?.ParentRegion;
        Operation? ancestor = null;
        Operation? isolated = null;
        bool inRoot = true;
        var x = user;
        for (int steps = 0; steps < MaxAncestorSteps; steps++)
        {
            if (region is not null && ReferenceEquals(x.ParentRegion, region))
            {
                ancestor = x;
                break;
            }

            if (ReferenceEquals(x, _root))
            {
                inRoot = false;
            }

            if (x.ParentOp is not { } parent)
            {
                break;
            }

            if (inRoot && isolated is null && parent.HasTrait(OpTraits.IsolatedFromAbove))
            {
                isolated = parent;
            }

            x = parent;
        }

        string What() => successor < 0 ? $"operand #{Num(index)}" : $"successor #{Num(successor)} argument #{Num(index)}";
        if (isolated is not null)
        {
            Error(DiagnosticCodes.VerifyIsolation,
                $"{What()} of '{user.Name}' uses a value defined outside the region of isolated-from-above op '{isolated.Name}'", user,
                "required by the region isolation of this op", isolated.Location);
            return;
        }

        if (!_options.CheckDominance)
        {
            return;
        }

        bool dominated = ancestor is not null && (defOp is null
            ? _dominance.Dominates(defBlock!, ancestor.ParentBlock!)
            : _dominance.ProperlyDominatesInRegion(defOp, ancestor));
        if (!dominated)
        {
            Error(DiagnosticCodes.VerifyDominance, $"{What()} of '{user.Name}' does not dominate this use", user,
                "operand defined here", v.Location);
        }
    }
}
