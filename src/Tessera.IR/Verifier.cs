using System.Globalization;
using System.Text;

namespace Tessera.IR;

public sealed record VerifierOptions
{
    /// <summary>Check that every operand's definition dominates its use.</summary>
    public bool CheckDominance { get; init; } = true;

    /// <summary>Regions nested deeper than this (below the root) are reported and not verified.</summary>
    public int MaxNesting { get; init; } = Parser.MaxNesting;
}

/// <summary>
/// Checks IR against its structural rules and the ops' declarations. Never throws on broken IR: every problem is an
/// error diagnostic (codes <c>DiagnosticCodes.Verify*</c>), reported in pre-order walk order. Walks with explicit
/// stacks, so the depth of the input never drives recursion.
/// </summary>
public static class Verifier
{
    /// <summary>Most errors reported by one call; after that a note says verification stopped.</summary>
    public const int MaxErrors = 100;

    /// <summary>Returns true if valid. Appends error diagnostics (Severity.Error, codes from DiagnosticCodes.Verify*) to <paramref name="diags"/>.</summary>
    public static bool Verify(Operation root, DiagnosticBag diags, VerifierOptions? options = null)
    {
        var run = new VerifierRun(root, diags, options ?? new VerifierOptions());
        run.Run();
        return run.ErrorCount == 0;
    }
}

/// <summary>One verification: the walk, and the per-op and per-region checks (in the other partial files).</summary>
internal sealed partial class VerifierRun
{
    private const string ForwardRefName = "builtin.forward_ref";
    private const int MaxHeaderLength = 200;

    private readonly Operation _root;
    private readonly DiagnosticBag _diags;
    private readonly VerifierOptions _options;
    private readonly DominanceInfo _dominance;

    // Membership only: never iterated, so their order cannot leak into the output.
    private readonly HashSet<Block> _visitedBlocks = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Block, Region> _blockRegion = new(ReferenceEqualityComparer.Instance);

    private bool _stopped;

    public VerifierRun(Operation root, DiagnosticBag diags, VerifierOptions options)
    {
        _root = root;
        _diags = diags;
        _options = options;
        _dominance = new DominanceInfo(root);
    }

    public int ErrorCount { get; private set; }

    public void Run()
    {
        // The root's own block list, so a root terminator's successors can be checked.
        if (_root.ParentRegion is { } outer)
        {
            foreach (var b in outer.Blocks)
            {
                _blockRegion.TryAdd(b, outer);
            }
        }

        var stack = new Stack<(Operation Op, int Depth)>();
        stack.Push((_root, 0));
        var children = new List<Operation>();
        while (stack.Count > 0 && !_stopped)
        {
            var (op, depth) = stack.Pop();
            if (!VerifyOp(op))
            {
                continue;
            }

            children.Clear();
            VerifyRegions(op, depth, children);
            for (int i = children.Count - 1; i >= 0; i--)
            {
                stack.Push((children[i], depth + 1));
            }
        }
    }

    /// <summary>All checks of one op except its regions' contents. False if the op is too broken to descend into.</summary>
    private bool VerifyOp(Operation op)
    {
        if (op.IsErased)
        {
            Error(DiagnosticCodes.VerifyBrokenIr, $"'{op.Name}' has been erased but is still in the IR", op);
            return false;
        }

        if (op.Def is null && op.Name == ForwardRefName)
        {
            Error(DiagnosticCodes.VerifyBrokenIr, $"'{ForwardRefName}' placeholder of an unresolved forward reference is in the IR", op);
            return false;
        }

        int errorsBefore = ErrorCount;
        CheckValuesIntact(op);
        CheckSuccessors(op);
        if (op.Def is { } def)
        {
            CheckDeclaration(op, def);
            CheckTraits(op, def);
            if (ErrorCount == errorsBefore && !_stopped && def.Verifier is { } hook && hook(op) is { } message)
            {
                Error(DiagnosticCodes.VerifyOpSpecific, $"'{op.Name}' {message}", op);
            }
        }

        CheckUses(op);
        return true;
    }

    /// <summary>Checks the blocks of <paramref name="op"/>'s regions and collects the ops to visit next, in order.</summary>
    private void VerifyRegions(Operation op, int depth, List<Operation> children)
    {
        if (op.Regions.Count == 0)
        {
            return;
        }

        var def = op.Def;
        bool needTerminator = def is not null && (def.Traits & OpTraits.NoTerminator) == 0;
        bool descend = true;
        if (depth + 1 > _options.MaxNesting && op.Regions.Any(r => r.Blocks.Count > 0))
        {
            Error(DiagnosticCodes.VerifyBrokenIr,
                $"'{op.Name}' is nested too deeply: regions nested more than {Num(_options.MaxNesting)} deep are not verified", op);
            descend = false;
        }

        var good = new List<(Block Block, int Index)>();
        for (int r = 0; r < op.Regions.Count && !_stopped; r++)
        {
            var region = op.Regions[r];
            if (!ReferenceEquals(region.ParentOp, op))
            {
                Error(DiagnosticCodes.VerifyBrokenIr, $"region #{Num(r)} of '{op.Name}' has a different parent operation", op);
                continue;
            }

            var blocks = region.Blocks;
            good.Clear();
            for (int b = 0; b < blocks.Count; b++)
            {
                var block = blocks[b];
                if (!ReferenceEquals(block.ParentRegion, region))
                {
                    Error(DiagnosticCodes.VerifyBrokenIr, $"{Where(op, r, b)} has a different parent region", op);
                }
                else if (!_visitedBlocks.Add(block))
                {
                    Error(DiagnosticCodes.VerifyBrokenIr, $"{Where(op, r, b)} appears more than once in the IR", op);
                }
                else
                {
                    _blockRegion[block] = region;
                    good.Add((block, b));
                }
            }

            foreach (var (block, b) in good)
            {
                if (_stopped)
                {
                    break;
                }

                CheckBlockArguments(block, op, r, b);
                if (needTerminator)
                {
                    if (block.Last is not { } last)
                    {
                        Error(DiagnosticCodes.VerifyTerminator, $"empty {Where(op, r, b)}: its blocks must end with a terminator", op);
                    }
                    else if (last.Def is not null && !last.HasTrait(OpTraits.Terminator))
                    {
                        Error(DiagnosticCodes.VerifyTerminator,
                            $"{Where(op, r, b)} must end with a terminator, but ends with '{last.Name}'", last);
                    }
                }

                if (descend)
                {
                    CollectOps(block, op, r, b, children);
                }
            }
        }
    }

    private static string Where(Operation op, int region, int block) => $"block #{Num(block)} of region #{Num(region)} of '{op.Name}'";

    private void CheckBlockArguments(Block block, Operation parent, int r, int b)
    {
        var args = block.Arguments;
        for (int i = 0; i < args.Count; i++)
        {
            if (!ReferenceEquals(args[i].Owner, block) || args[i].Index != i)
            {
                Error(DiagnosticCodes.VerifyBrokenIr, $"argument #{Num(i)} of {Where(parent, r, b)} is inconsistent with its block", parent);
            }
        }
    }

    private void CollectOps(Block block, Operation parent, int r, int b, List<Operation> children)
    {
        int count = 0;
        for (var child = block.First; child is not null; child = child.NextInBlock)
        {
            if (!ReferenceEquals(child.ParentBlock, block))
            {
                Error(DiagnosticCodes.VerifyBrokenIr, $"'{child.Name}' in {Where(parent, r, b)} has a different parent block", child);
                return;
            }

            // Each op has one parent block and each block is visited once, so each op is visited once; this only
            // guards against a corrupted list.
            if (++count > block.Count)
            {
                Error(DiagnosticCodes.VerifyBrokenIr, $"the operation list of {Where(parent, r, b)} is corrupted", parent);
                return;
            }

            children.Add(child);
        }
    }

    // ---- diagnostics ----

    /// <summary>Reports an error about <paramref name="op"/> with a "see current operation" note.</summary>
    private Diagnostic Error(string code, string message, Operation op, string? note = null, Location? noteLocation = null)
    {
        var d = new Diagnostic(Severity.Error, code, message, op.Location);
        if (note is not null)
        {
            d.WithNote(note, noteLocation);
        }

        d.WithNote("see current operation: " + Header(op));
        if (_stopped)
        {
            return d;
        }

        if (ErrorCount >= Verifier.MaxErrors)
        {
            _stopped = true;
            _diags.Add(new Diagnostic(Severity.Note, "",
                $"too many errors: verification stopped after {Num(Verifier.MaxErrors)} errors", _root.Location));
            return d;
        }

        ErrorCount++;
        _diags.Add(d);
        return d;
    }

    /// <summary>A one-line summary of an op: name, operand and result types, and region and successor counts.</summary>
    internal static string Header(Operation op)
    {
        var sb = new StringBuilder();
        sb.Append('\'').Append(op.Name).Append("' : (");
        for (int i = 0; i < op.OpOperands.Count; i++)
        {
            sb.Append(i > 0 ? ", " : "").Append(TypeText(op.OpOperands[i].Value?.Type));
        }

        sb.Append(") -> (");
        for (int i = 0; i < op.Results.Count; i++)
        {
            sb.Append(i > 0 ? ", " : "").Append(TypeText(op.Results[i].Type));
        }

        sb.Append(')');
        if (op.Successors.Count > 0)
        {
            sb.Append(", ").Append(Num(op.Successors.Count)).Append(op.Successors.Count == 1 ? " successor" : " successors");
        }

        if (op.Regions.Count > 0)
        {
            sb.Append(", ").Append(Num(op.Regions.Count)).Append(op.Regions.Count == 1 ? " region" : " regions");
        }

        return sb.Length <= MaxHeaderLength ? sb.ToString() : sb.ToString(0, MaxHeaderLength - 3) + "...";
    }

    internal static string TypeText(Type? t) => t is null ? "<<null>>" : t.Text;

    internal static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    internal static string Plural(int n, string word) => Num(n) + " " + word + (n == 1 ? "" : "s");
}
