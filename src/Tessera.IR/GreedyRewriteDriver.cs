namespace Tessera.IR;

public sealed record GreedyRewriteConfig
{
    /// <summary>Full sweeps over the IR before giving up on reaching a fixpoint.</summary>
    public int MaxIterations { get; init; } = 10;
    public bool Fold { get; init; } = true;
    public bool RemoveDeadOps { get; init; } = true;
}

public sealed record GreedyRewriteResult(bool Changed, bool Converged, int Folded, int Rewritten, int Erased)
{
    public Dictionary<string, int> PatternHits { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Applies patterns and folders until nothing changes. The worklist starts in pre-order and is a stack,
/// so the order of visits, and therefore the output, depends only on the IR and the pattern list.
/// </summary>
public sealed class GreedyRewriteDriver : IRewriteListener
{
    private readonly Context _ctx;
    private readonly List<Operation> _worklist = [];
    private readonly HashSet<Operation> _inWorklist = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, List<RewritePattern>> _byRoot = new(StringComparer.Ordinal);
    private readonly List<RewritePattern> _anyRoot = [];
    private readonly PatternRewriter _rewriter;
    private readonly GreedyRewriteConfig _config;
    private int _folded, _rewritten, _erased;
    private readonly Dictionary<string, int> _hits = new(StringComparer.Ordinal);

    private GreedyRewriteDriver(Context ctx, IEnumerable<RewritePattern> patterns, GreedyRewriteConfig config)
    {
        _ctx = ctx;
        _config = config;
        _rewriter = new PatternRewriter(ctx) { Listener = this };
        // Stable sort: higher benefit first, registration order among equals.
        foreach (var p in patterns.Select((p, i) => (p, i)).OrderByDescending(x => x.p.Benefit).ThenBy(x => x.i).Select(x => x.p))
        {
            if (p.RootOp is null)
            {
                _anyRoot.Add(p);
            }
            else
            {
                if (!_byRoot.TryGetValue(p.RootOp, out var list))
                {
                    _byRoot[p.RootOp] = list = [];
                }

                list.Add(p);
            }
        }
    }

    /// <summary>Rewrites everything nested in <paramref name="root"/> (not the root itself).</summary>
    public static GreedyRewriteResult Apply(Context ctx, Operation root, IEnumerable<RewritePattern> patterns, GreedyRewriteConfig? config = null)
    {
        var d = new GreedyRewriteDriver(ctx, patterns, config ?? new GreedyRewriteConfig());
        return d.Run(root);
    }

    private GreedyRewriteResult Run(Operation root)
    {
        bool changedAny = false;
        bool converged = false;
        for (int iter = 0; iter < _config.MaxIterations; iter++)
        {
            var ops = root.Walk().Skip(1).ToList();
            for (int i = ops.Count - 1; i >= 0; i--)
            {
                Push(ops[i]);
            }

            bool changed = false;
            while (_worklist.Count > 0)
            {
                var op = _worklist[^1];
                _worklist.RemoveAt(_worklist.Count - 1);
                _inWorklist.Remove(op);
                if (op.IsErased || op.ParentBlock is null || !root.IsAncestorOf(op))
                {
                    continue;
                }

                changed |= Visit(op);
            }

            changedAny |= changed;
            if (!changed)
            {
                converged = true;
                break;
            }
        }

        var r = new GreedyRewriteResult(changedAny, converged, _folded, _rewritten, _erased);
        foreach (var (k, v) in _hits.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            r.PatternHits[k] = v;
        }

        return r;
    }

    private bool Visit(Operation op)
    {
        if (_config.RemoveDeadOps && IsTriviallyDead(op))
        {
            foreach (var v in op.Operands)
            {
                if (v?.DefiningOp is { } d)
                {
                    Push(d);
                }
            }

            _rewriter.EraseOp(op);
            _erased++;
            return true;
        }

        if (_config.Fold && TryFold(op))
        {
            _folded++;
            return true;
        }

        var candidates = _byRoot.TryGetValue(op.Name, out var list) ? list.Concat(_anyRoot) : _anyRoot;
        foreach (var p in candidates)
        {
            _rewriter.SetInsertionPoint(op);
            if (p.MatchAndRewrite(op, _rewriter))
            {
                _rewritten++;
                _hits[p.Name] = _hits.GetValueOrDefault(p.Name) + 1;
                return true;
            }
        }

        return false;
    }

    public static bool IsTriviallyDead(Operation op) =>
        op.HasTrait(OpTraits.Pure) && op.Results.All(r => !r.HasUses) && !op.HasTrait(OpTraits.Terminator);

    private bool TryFold(Operation op)
    {
        if (op.Def?.Folder is not { } folder || op.HasTrait(OpTraits.ConstantLike) || op.OpOperands.Any(o => o.Value is null))
        {
            return false;
        }

        var consts = op.Operands.Select(v => v!.DefiningOp is { } d && d.HasTrait(OpTraits.ConstantLike) ? d.GetAttr("value") : null).ToList();
        var results = folder(op, consts);
        if (results is null || results.Count != op.NumResults)
        {
            return false;
        }

        // A fold that returns the op's own results changed it in place.
        if (results.Select((r, i) => ReferenceEquals(r.Value, op.Result(i))).All(x => x))
        {
            OnModified(op);
            return true;
        }

        var replacements = new List<Value>();
        _rewriter.SetInsertionPoint(op);
        var created = new List<Operation>();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            if (r.Value is not null)
            {
                replacements.Add(r.Value);
                continue;
            }

            var dialect = _ctx.GetDialect(op.Dialect);
            var c = dialect?.MaterializeConstant(_rewriter, r.Attribute!, op.Result(i).Type, op.Location);
            if (c is null)
            {
                foreach (var made in created)
                {
                    _rewriter.EraseOp(made);
                }

                return false;
            }

            created.Add(c);
            replacements.Add(c.Result(0));
        }

        _rewriter.ReplaceOp(op, replacements);
        return true;
    }

    private void Push(Operation op)
    {
        if (_inWorklist.Add(op))
        {
            _worklist.Add(op);
        }
    }

    public void OnInserted(Operation op) => Push(op);

    public void OnModified(Operation op)
    {
        Push(op);
        foreach (var r in op.Results)
        {
            foreach (var u in r.Users)
            {
                Push(u);
            }
        }
    }

    public void OnErased(Operation op)
    {
        foreach (var v in op.Operands)
        {
            if (v?.DefiningOp is { } d && !d.IsErased)
            {
                Push(d);
            }
        }
    }
}
