using Tessera.IR.Passes;

namespace Tessera.IR.Tools;

/// <summary>Everything <c>tessera opt</c> can be asked to do; the CLI and the MSBuild task fill it from their own flags.</summary>
public sealed record OptOptions
{
    public string? PassPipeline { get; init; }
    public int? OptLevel { get; init; }
    public bool VerifyEach { get; init; } = true;
    public bool VerifyDiagnostics { get; init; }
    public bool SplitInputFile { get; init; }
    public IReadOnlyList<string> PrintIrBefore { get; init; } = [];
    public IReadOnlyList<string> PrintIrAfter { get; init; } = [];
    public bool PrintIrAfterAll { get; init; }
    public bool PrintIrAfterChange { get; init; }
    public bool PrintIrAfterFailure { get; init; }
    public bool Timing { get; init; }
    public bool PassStatistics { get; init; }
    public bool? CheckUnchanged { get; init; }
    public string? CrashReproducerPath { get; init; }
    public bool RunReproducer { get; init; }
    public PrintOptions PrintOptions { get; init; } = PrintOptions.Default;
}

/// <summary>
/// The mlir-opt equivalent: parse, run a textual pipeline, print. Returns the exit code:
/// 0 success, 1 a diagnosed user error, 2 an internal error (with a reproducer).
/// </summary>
public sealed class OptDriver(Context context, PassRegistry registry, OptOptions options, TextWriter output, TextWriter errors)
{
    public const string SplitMarker = "// -----";

    public int Run(string text, string inputName)
    {
        string? pipeline = options.PassPipeline;
        if (options.RunReproducer)
        {
            if (CrashReproducer.TryRead(text) is not { } repro)
            {
                return Fail(new Diagnostic(Severity.Error, DiagnosticCodes.BadArgument, $"{inputName} has no '{CrashReproducer.HeaderPrefix}' header", Location.Unknown));
            }

            pipeline = repro.Pipeline;
        }

        if (pipeline is not null && options.OptLevel is not null)
        {
            return Fail(new Diagnostic(Severity.Error, DiagnosticCodes.BadArgument, "give either --pass-pipeline or -O<n>, not both", Location.Unknown));
        }

        pipeline ??= options.OptLevel is int level ? NamedPipelines.OptimizationLevel(level) : NamedPipelines.O0;
        var chunks = options.SplitInputFile ? SplitInput.Split(text).ToList() : [new SplitInput.Chunk(text, 1)];
        int worst = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            if (i > 0 && !options.VerifyDiagnostics)
            {
                output.WriteLine(SplitMarker);
            }

            worst = Math.Max(worst, RunChunk(chunks[i].Text, inputName, pipeline));
        }

        return worst;
    }

    private int RunChunk(string text, string inputName, string pipeline)
    {
        var diags = new DiagnosticBag();
        var exit = Process(text, inputName, pipeline, diags, out var module);
        if (options.VerifyDiagnostics)
        {
            var problems = DiagnosticVerifier.Verify(inputName, text, diags.Items);
            foreach (var p in problems)
            {
                errors.WriteLine($"{p} [{DiagnosticCodes.VerifyDiagnosticsMismatch}]");
            }

            // An internal error is never what a test expects.
            return exit == 2 ? 2 : problems.Count > 0 ? 1 : 0;
        }

        foreach (var d in diags.Items)
        {
            errors.WriteLine(d.Render());
        }

        if (exit == 0 && module is not null)
        {
            output.Write(Printer.PrintOp(module, options.PrintOptions));
        }

        return exit;
    }

    private int Process(string text, string inputName, string pipeline, DiagnosticBag diags, out Operation? module)
    {
        module = null;
        try
        {
            module = Parser.ParseModule(context, text, inputName);
        }
        catch (DiagnosticException e)
        {
            diags.Add(e.Diagnostic);
            return 1;
        }

        var pm = PassManager.Parse(context, registry, pipeline, diags);
        if (pm is null)
        {
            return 1;
        }

        pm.VerifyEach = options.VerifyEach;
        pm.VerifyInput = options.VerifyEach;
        if (options.CheckUnchanged is bool check)
        {
            pm.CheckUnchanged = check;
        }

        pm.CrashReproducerPath = options.CrashReproducerPath;
        pm.Output = errors;
        pm.IrPrintOptions = options.PrintOptions;
        foreach (var p in options.PrintIrBefore)
        {
            pm.PrintIrBefore.Add(p);
        }

        foreach (var p in options.PrintIrAfter)
        {
            pm.PrintIrAfter.Add(p);
        }

        pm.PrintIrAfterAll = options.PrintIrAfterAll;
        pm.PrintIrAfterChange = options.PrintIrAfterChange;
        pm.PrintIrAfterFailure = options.PrintIrAfterFailure;
        pm.Timing = options.Timing;
        pm.PassStatistics = options.PassStatistics;
        return PassManager.ExitCode(pm.Run(module, diags));
    }

    private int Fail(Diagnostic d)
    {
        errors.WriteLine(d.Render());
        return 1;
    }
}
