namespace Tessera.Passes.Transforms;

/// <summary>
/// Runs every registered op's canonicalization patterns and folders to a fixpoint.
/// Why: canonical forms (constants folded, identities removed, constants on the right of commutative ops)
/// shrink the IR and make later pattern matching simpler, because each rule only has to match one shape.
/// </summary>
public sealed class CanonicalizePass : Pass
{
    private readonly PassOption<int> _maxIterations;
    private readonly PassOption<bool> _fold;
    private readonly PassOption<bool> _removeDead;

    public CanonicalizePass()
    {
        _maxIterations = Option("max-iterations", 10, "full sweeps over the IR before giving up on a fixpoint");
        _fold = Option("fold", true, "apply op folders (constant folding and identities)");
        _removeDead = Option("remove-dead", true, "erase trivially dead ops while rewriting");
    }

    public override string Flag => "canonicalize";

    public override string Summary => "folds constants and applies every op's canonicalization patterns until a fixpoint";

    public int MaxIterations { get => _maxIterations.Value; set => _maxIterations.Value = value; }
    public bool FoldEnabled { get => _fold.Value; set => _fold.Value = value; }
    public bool RemoveDead { get => _removeDead.Value; set => _removeDead.Value = value; }

    /// <summary>The generic patterns that apply to any op with a given trait, tried after the op-specific ones.</summary>
    public static void PopulateGenericPatterns(List<RewritePattern> patterns) => patterns.Add(new CommutativeConstantToRhs());

    /// <summary>Every registered op's canonicalizations, in op-name order, then the generic patterns.</summary>
    public static List<RewritePattern> PopulateCanonicalizationPatterns(Context ctx)
    {
        var patterns = new List<RewritePattern>();
        foreach (var def in ctx.RegisteredOps)
        {
            patterns.AddRange(def.Canonicalizations);
        }

        PopulateGenericPatterns(patterns);
        return patterns;
    }

    public override PassResult Run(Operation op, PassContext context)
    {
        if (_maxIterations.Value < 1)
        {
            context.Diagnostics.Error(DiagnosticCodes.PassFailed, $"canonicalize: max-iterations must be at least 1, got {_maxIterations.Value}", op.Location);
            return PassResult.Failed;
        }

        var config = new GreedyRewriteConfig
        {
            MaxIterations = _maxIterations.Value,
            Fold = _fold.Value,
            RemoveDeadOps = _removeDead.Value,
        };
        var result = GreedyRewriteDriver.Apply(context.Context, op, PopulateCanonicalizationPatterns(context.Context), config);

        Count("folded", result.Folded);
        Count("rewritten", result.Rewritten);
        Count("erased", result.Erased);
        foreach (var (name, hits) in result.PatternHits)
        {
            Count(name, hits);
        }

        if (!result.Converged)
        {
            context.Diagnostics.Warning(DiagnosticCodes.PassFailed,
                $"canonicalize did not converge within {_maxIterations.Value} iteration(s); the IR is valid but may not be canonical", op.Location);
        }

        return result.Changed ? PassResult.Changed : PassResult.Unchanged;
    }

    /// <summary>
    /// <c>op(c, x)</c> -> <c>op(x, c)</c> for commutative binary ops with a constant lhs and a non-constant rhs,
    /// so folders and rules written for <c>x + 0</c> also see <c>0 + x</c>.
    /// </summary>
    public sealed class CommutativeConstantToRhs() : RewritePattern("commutative-constant-to-rhs", rootOp: null)
    {
        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            if (!op.HasTrait(OpTraits.Commutative) || op.NumOperands != 2 || op.OpOperands.Any(o => o.Value is null))
            {
                return false;
            }

            var lhs = op.Operand(0);
            var rhs = op.Operand(1);
            if (!IsConstantLike(lhs) || IsConstantLike(rhs))
            {
                return false;
            }

            rewriter.ModifyInPlace(op, () =>
            {
                op.SetOperand(0, rhs);
                op.SetOperand(1, lhs);
            });
            return true;
        }

        private static bool IsConstantLike(Value v) => v.DefiningOp is { } d && d.HasTrait(OpTraits.ConstantLike);
    }
}
