using System.Diagnostics;

namespace Tessera.IR.Passes;

public enum PassRunStatus { Success, Failure, InternalError }

/// <summary>How a pipeline run ended. Failure: user errors are in the bag. InternalError: a pass bug (crash or a lie).</summary>
public sealed record PassRunResult(PassRunStatus Status, string? ReproducerPath = null)
{
    public static readonly PassRunResult Success = new(PassRunStatus.Success);
    public static readonly PassRunResult Failure = new(PassRunStatus.Failure);
    public static PassRunResult InternalError(string? reproducerPath) => new(PassRunStatus.InternalError, reproducerPath);
    public bool Succeeded => Status == PassRunStatus.Success;
}

/// <summary>
/// Runs a pipeline (an <see cref="OpPassManager"/>) on a root op, with verification, the unchanged check,
/// crash reproducers, IR printing, timing and statistics. Reports go to <see cref="Output"/>.
/// </summary>
public sealed class PassManager
{
    private readonly Context _context;
    private readonly List<PassInstrumentation> _instrumentations = [];

    public PassManager(Context context, OpPassManager pipeline)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
        Pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
    }

    public PassManager(Context context, string anchor = PipelineParser.DefaultAnchor) : this(context, new OpPassManager(anchor)) { }

    /// <summary>Parses a textual pipeline into a pass manager; null (with a diagnostic) on a syntax error.</summary>
    public static PassManager? Parse(Context context, PassRegistry registry, string pipeline, DiagnosticBag diags, string source = "<pipeline>") =>
        PipelineParser.Parse(pipeline, registry, diags, source) is { } pm ? new PassManager(context, pm) : null;

    public OpPassManager Pipeline { get; }

    /// <summary>Verify the input once before the pipeline.</summary>
    public bool VerifyInput { get; set; } = true;

    /// <summary>Verify the op each pass ran on after the pass.</summary>
    public bool VerifyEach { get; set; } = true;

    public VerifierOptions? VerifierOptions { get; set; }

    /// <summary>Compare the IR before and after a pass that reported Unchanged (on by default in debug builds).</summary>
    public bool CheckUnchanged { get; set; } =
#if DEBUG
        true;
#else
        false;
#endif

    /// <summary>Keep the root's text before each pass, so that a crash writes a reproducer.</summary>
    public bool CrashReproducer { get; set; } = true;

    /// <summary>Where to write the reproducer; null: a new file in the temp directory. Never overwrites.</summary>
    public string? CrashReproducerPath { get; set; }

    /// <summary>Where IR dumps and reports go.</summary>
    public TextWriter Output { get; set; } = Console.Error;

    public PrintOptions IrPrintOptions { get; set; } = PrintOptions.Default;
    public ISet<string> PrintIrBefore { get; } = new SortedSet<string>(StringComparer.Ordinal);
    public ISet<string> PrintIrAfter { get; } = new SortedSet<string>(StringComparer.Ordinal);
    public bool PrintIrBeforeAll { get; set; }
    public bool PrintIrAfterAll { get; set; }
    public bool PrintIrAfterChange { get; set; }
    public bool PrintIrAfterFailure { get; set; }

    /// <summary>Print the whole root in IR dumps instead of the op the pass ran on.</summary>
    public bool PrintIrModuleScope { get; set; }

    public bool Timing { get; set; }
    public bool PassStatistics { get; set; }

    public void AddInstrumentation(PassInstrumentation instrumentation) =>
        _instrumentations.Add(instrumentation ?? throw new ArgumentNullException(nameof(instrumentation)));

    /// <summary>0 success, 1 diagnosed failure, 2 internal error.</summary>
    public static int ExitCode(PassRunResult r) => r.Status switch
    {
        PassRunStatus.Success => 0,
        PassRunStatus.Failure => 1,
        _ => 2,
    };

    public PassRunResult Run(Operation root, DiagnosticBag diags)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(diags);
        if (!Pipeline.Validate(diags))
        {
            return PassRunResult.Failure;
        }

        if (root.Name != Pipeline.Anchor)
        {
            diags.Error(DiagnosticCodes.PipelineAnchor,
                $"pipeline anchored on '{Pipeline.Anchor}' cannot run on '{root.Name}'", root.Location);
            return PassRunResult.Failure;
        }

        var run = new PassRun(this, root, diags);
        var instrumentations = new List<PassInstrumentation> { new IrPrinterInstrumentation(this, () => root) };
        instrumentations.AddRange(_instrumentations);
        run.Instrumentations = instrumentations;
        var result = run.Execute();
        if (Timing)
        {
            Output.Write(PassReports.Timing(Pipeline, run.Slots, run.BaseSlot, run.VerifierTicks, run.TotalTicks, Stopwatch.Frequency));
        }

        if (PassStatistics)
        {
            Output.Write(PassReports.Statistics(Pipeline, run.Slots, run.BaseSlot));
        }

        Output.Flush();
        return result;
    }

    internal Context Context => _context;
}
