namespace Tessera.IR;

/// <summary>
/// A rewriter that tells the greedy driver what changed, so the driver can revisit affected ops.
/// All IR mutation inside patterns goes through it.
/// </summary>
public class PatternRewriter(Context context) : OpBuilder(context)
{
    public IRewriteListener? Listener { get; set; }

    public override Operation Insert(Operation op)
    {
        base.Insert(op);
        foreach (var o in op.Walk())
        {
            Listener?.OnInserted(o);
        }

        return op;
    }

    /// <summary>Replaces every use of <paramref name="op"/>'s results, then erases it.</summary>
    public void ReplaceOp(Operation op, IReadOnlyList<Value> replacements)
    {
        if (replacements.Count != op.NumResults)
        {
            throw new ArgumentException($"'{op.Name}' has {op.NumResults} results but {replacements.Count} replacements were given");
        }

        for (int i = 0; i < replacements.Count; i++)
        {
            ReplaceAllUsesWith(op.Result(i), replacements[i]);
        }

        EraseOp(op);
    }

    public void ReplaceOp(Operation op, Value replacement) => ReplaceOp(op, [replacement]);

    /// <summary>Creates a new op in place of <paramref name="op"/> and replaces it with the new op's results.</summary>
    public Operation ReplaceOpWithNew(Operation op, OperationState state)
    {
        SetInsertionPoint(op);
        var n = Create(state);
        ReplaceOp(op, n.Results.Cast<Value>().ToList());
        return n;
    }

    public void ReplaceAllUsesWith(Value from, Value to)
    {
        foreach (var user in from.Users.ToList())
        {
            Listener?.OnModified(user);
        }

        from.ReplaceAllUsesWith(to);
    }

    public void EraseOp(Operation op)
    {
        foreach (var o in op.WalkPostOrder())
        {
            Listener?.OnErased(o);
        }

        op.Erase();
    }

    /// <summary>Call around in-place changes to an op's operands or attributes.</summary>
    public void ModifyInPlace(Operation op, Action change)
    {
        change();
        Listener?.OnModified(op);
    }
}

public interface IRewriteListener
{
    void OnInserted(Operation op);
    void OnErased(Operation op);
    void OnModified(Operation op);
}

/// <summary>A rewrite rooted at one op. Return true only if the IR was changed.</summary>
public abstract class RewritePattern
{
    protected RewritePattern(string name, string? rootOp, int benefit = 1)
    {
        Name = name;
        RootOp = rootOp;
        Benefit = benefit;
    }

    /// <summary>A name shown in debug output and statistics, e.g. <c>addi-zero</c>.</summary>
    public string Name { get; }

    /// <summary>The op name this pattern is tried on; null means any op.</summary>
    public string? RootOp { get; }

    /// <summary>Higher benefit is tried first; ties keep registration order.</summary>
    public int Benefit { get; }

    public abstract bool MatchAndRewrite(Operation op, PatternRewriter rewriter);

    public override string ToString() => Name;
}
