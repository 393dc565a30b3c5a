using System.Diagnostics;

namespace Tessera.IR.Passes;

/// <summary>The state of one <see cref="PassManager.Run"/>. Recursion follows the pipeline's nesting only (capped).</summary>
internal sealed class PassRun(PassManager pm, Operation root, DiagnosticBag diags)
{
    private static readonly PrintOptions FingerprintOptions = PrintOptions.Full with { Generic = true, DebugInfo = true };
    private static readonly PrintOptions ReproducerOptions = PrintOptions.Full with { DebugInfo = true };

    private readonly PassContext _passContext = new(pm.Context, diags);
    private readonly List<string> _anchors = [];
    private string? _rootText;
    private bool _rootDirty = true;

    public Dictionary<OpPassManager, int> BaseSlot { get; } = new(ReferenceEqualityComparer.Instance);
    public List<PipelineSlot> Slots { get; private set; } = [];
    public List<PassInstrumentation> Instrumentations { get; set; } = [];
    public long VerifierTicks { get; private set; }
    public long TotalTicks { get; private set; }

    public PassRunResult Execute()
    {
        Slots = PassReports.Slots(pm.Pipeline, BaseSlot);
        long start = Stopwatch.GetTimestamp();
        try
        {
            if (pm.VerifyInput && !Verify(root, out var verifierDiags))
            {
                diags.AddRange(verifierDiags.Items);
                return PassRunResult.Failure;
            }

            return RunManager(pm.Pipeline, root) ?? PassRunResult.Success;
        }
        finally
        {
            TotalTicks = Stopwatch.GetTimestamp() - start;
        }
    }

    /// <summary>Runs <paramref name="manager"/> on <paramref name="op"/>; null means success so far.</summary>
    private PassRunResult? RunManager(OpPassManager manager, Operation op)
    {
        _anchors.Add(manager.Anchor);
        try
        {
            int baseSlot = BaseSlot[manager];
            for (int i = 0; i < manager.Items.Count; i++)
            {
                var item = manager.Items[i];
                var slot = Slots[baseSlot + i];
                long start = Stopwatch.GetTimestamp();
                PassRunResult? r;
                if (item.Pass is { } pass)
                {
                    r = RunPass(pass, op, slot);
                }
                else
                {
                    r = RunNested(item.Nested!, op);
                    slot.Ticks += Stopwatch.GetTimestamp() - start;
                }

                if (r is not null)
                {
                    return r;
                }
            }

            return null;
        }
        finally
        {
            _anchors.RemoveAt(_anchors.Count - 1);
        }
    }

    private PassRunResult? RunNested(OpPassManager nested, Operation op)
    {
        var children = new List<Operation>();
        foreach (var region in op.Regions)
        {
            foreach (var block in region.Blocks)
            {
                children.AddRange(block.Operations.Where(c => c.Name == nested.Anchor));
            }
        }

        foreach (var child in children)
        {
            if (child.IsErased || !ReferenceEquals(child.ParentOp, op))
            {
                continue;
            }

            if (RunManager(nested, child) is { } r)
            {
                return r;
            }
        }

        return null;
    }

    private PassRunResult? RunPass(Pass pass, Operation op, PipelineSlot slot)
    {
        if (pm.CrashReproducer && (_rootDirty || _rootText is null))
        {
            _rootText = Printer.PrintOp(root, ReproducerOptions);
            _rootDirty = false;
        }

        string? before = pm.CheckUnchanged ? Printer.PrintOp(op, FingerprintOptions) : null;
        foreach (var inst in Instrumentations)
        {
            inst.RunBeforePass(pass, op);
        }

        int diagsBefore = diags.Items.Count;
        long start = Stopwatch.GetTimestamp();
        PassResult result;
        try
        {
            result = pass.Run(op, _passContext);
        }
        catch (DiagnosticException e)
        {
            diags.Add(e.Diagnostic);
            result = PassResult.Failed;
        }
        catch (Exception e)
        {
            slot.Ticks += Stopwatch.GetTimestamp() - start;
            _rootDirty = true;
            var path = WriteReproducer(pass, $"exception: {e.GetType().FullName}: {e.Message}", out var writeError);
            diags.Error(DiagnosticCodes.PassInternalError,
                $"pass '{pass.Flag}' crashed on {PassInstrumentation.Describe(op)}: {e.GetType().FullName}: {Passes.CrashReproducer.OneLine(e.Message)}; "
                + (path is not null ? $"reproducer written to {path}" : $"no reproducer: {writeError}"), op.Location);
            return PassRunResult.InternalError(path);
        }

        slot.Ticks += Stopwatch.GetTimestamp() - start;
        if (result != PassResult.Unchanged)
        {
            _rootDirty = true;
        }

        bool reportedErrors = false;
        for (int i = diagsBefore; i < diags.Items.Count; i++)
        {
            reportedErrors |= diags.Items[i].Severity == Severity.Error;
        }

        if (result == PassResult.Failed || reportedErrors)
        {
            if (!reportedErrors)
            {
                diags.Error(DiagnosticCodes.PassFailed, $"pass '{pass.Flag}' failed on {PassInstrumentation.Describe(op)}", op.Location);
            }

            foreach (var inst in Instrumentations)
            {
                inst.RunAfterPassFailed(pass, op);
            }

            return PassRunResult.Failure;
        }

        if (before is not null && result == PassResult.Unchanged && Printer.PrintOp(op, FingerprintOptions) != before)
        {
            _rootDirty = true;
            var path = WriteReproducer(pass, "error: the pass reported no change but changed the IR", out var writeError);
            diags.Error(DiagnosticCodes.PassUnchangedLie,
                $"pass '{pass.Flag}' reported no change but changed {PassInstrumentation.Describe(op)}; "
                + (path is not null ? $"reproducer written to {path}" : $"no reproducer: {writeError}"), op.Location);
            return PassRunResult.InternalError(path);
        }

        foreach (var inst in Instrumentations)
        {
            inst.RunAfterPass(pass, op, result);
        }

        if (pm.VerifyEach && !Verify(op, out var verifierDiags))
        {
            diags.Error(DiagnosticCodes.PassFailed, $"IR is invalid after pass '{pass.Flag}' on {PassInstrumentation.Describe(op)}", op.Location);
            diags.AddRange(verifierDiags.Items);
            return PassRunResult.Failure;
        }

        return null;
    }

    private bool Verify(Operation op, out DiagnosticBag verifierDiags)
    {
        verifierDiags = new DiagnosticBag();
        long start = Stopwatch.GetTimestamp();
        bool ok = Verifier.Verify(op, verifierDiags, pm.VerifierOptions);
        VerifierTicks += Stopwatch.GetTimestamp() - start;
        return ok && !verifierDiags.HasErrors;
    }

    private string? WriteReproducer(Pass pass, string failure, out string? error)
    {
        error = null;
        if (!pm.CrashReproducer || _rootText is null)
        {
            error = "crash reproducers are off";
            return null;
        }

        string passText = OpPassManager.FormatPass(pass);
        string local = string.Concat(_anchors.Select(a => a + "(")) + passText + new string(')', _anchors.Count);
        var content = Passes.CrashReproducer.Format(pm.Pipeline.ToString(), passText, local, failure, _rootText);
        try
        {
            return Passes.CrashReproducer.Write(pm.CrashReproducerPath, content);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = e.Message;
            return null;
        }
    }
}
