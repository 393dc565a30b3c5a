using System.CommandLine;
using Tessera.Dialects;
using Tessera.IR;
using Tessera.IR.Tools;
using Tessera.Passes;

namespace Tessera.Cli;

/// <summary><c>tessera opt</c>: the mlir-opt equivalent. The work is in <see cref="OptDriver"/>, shared with the build task.</summary>
internal static class OptCommand
{
    public static Command Build()
    {
        var input = new Argument<string>("input") { Description = "The .tir file to read, or - for standard input" };
        var pipeline = new Option<string?>("--pass-pipeline") { Description = "Textual pipeline, e.g. 'builtin.module(func.func(canonicalize,cse),symbol-dce)'" };
        var levels = Enumerable.Range(0, 4).Select(i => new Option<bool>($"-O{i}") { Description = $"Run the named -O{i} pipeline (see 'tessera passes')" }).ToArray();
        var output = new Option<string?>("-o", "--output") { Description = "Write the result here instead of standard output" };
        var verifyDiagnostics = new Option<bool>("--verify-diagnostics") { Description = "Check diagnostics against 'expected-error @+1 {{...}}' annotations in the input" };
        var split = new Option<bool>("--split-input-file") { Description = "Treat each '// -----' separated chunk as its own input" };
        var noVerify = new Option<bool>("--no-verify") { Description = "Do not run the verifier on the input and after every pass" };
        var before = new Option<string[]>("--print-ir-before") { Description = "Print the IR before these passes (comma-separated flags)", AllowMultipleArgumentsPerToken = true };
        var after = new Option<string[]>("--print-ir-after") { Description = "Print the IR after these passes (comma-separated flags)", AllowMultipleArgumentsPerToken = true };
        var afterAll = new Option<bool>("--print-ir-after-all") { Description = "Print the IR after every pass" };
        var afterChange = new Option<bool>("--print-ir-after-change") { Description = "Print the IR after every pass that changed it" };
        var afterFailure = new Option<bool>("--print-ir-after-failure") { Description = "Print the IR after a pass that failed" };
        var timing = new Option<bool>("--timing") { Description = "Print a per-pass time table" };
        var statistics = new Option<bool>("--pass-statistics") { Description = "Print the counters each pass kept" };
        var checkUnchanged = new Option<bool?>("--check-unchanged") { Description = "Confirm that passes reporting 'unchanged' changed nothing (default: on in debug builds)" };
        var reproducer = new Option<string?>("--crash-reproducer") { Description = "Where to write the reproducer if a pass crashes (never overwrites)" };
        var runReproducer = new Option<bool>("--run-reproducer") { Description = "Take the pipeline from the input's reproducer header" };
        var debugInfo = new Option<bool>("--print-debuginfo") { Description = "Print op locations as loc(...)" };
        var generic = new Option<bool>("--print-op-generic") { Description = "Print every op in the generic form" };
        var elide = new Option<long?>("--elide-large-constants") { Description = "Elide dense constants with more elements than this (default 256; 0 never elides)" };
        var hex = new Option<bool>("--print-large-constants-hex") { Description = "Print large dense constants in full, as hex, instead of eliding them" };
        var unregistered = new Option<bool>("--allow-unregistered-dialect") { Description = "Accept ops of unknown dialects (generic form only)" };
        var printPipeline = new Option<bool>("--print-pipeline") { Description = "Print the pipeline that would run, fully expanded, and exit" };

        var cmd = new Command("opt", "Parse IR, run a pass pipeline, print the result (like mlir-opt)");
        cmd.Arguments.Add(input);
        foreach (var o in new Option[] { pipeline, output, verifyDiagnostics, split, noVerify, before, after, afterAll, afterChange, afterFailure, timing, statistics, checkUnchanged, reproducer, runReproducer, debugInfo, generic, elide, hex, unregistered, printPipeline })
        {
            cmd.Options.Add(o);
        }

        foreach (var o in levels)
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r =>
        {
            int? level = null;
            for (int i = 0; i < levels.Length; i++)
            {
                if (r.GetValue(levels[i]))
                {
                    level = i;
                }
            }

            long? elideAt = r.GetValue(elide);
            var print = PrintOptions.Default with
            {
                DebugInfo = r.GetValue(debugInfo),
                Generic = r.GetValue(generic),
                ElideElementsLargerThan = r.GetValue(hex) || elideAt == 0 ? null : elideAt ?? PrintOptions.Default.ElideElementsLargerThan,
                LargeConstantsAsHex = r.GetValue(hex),
            };
            var options = new OptOptions
            {
                PassPipeline = r.GetValue(pipeline),
                OptLevel = level,
                VerifyEach = !r.GetValue(noVerify),
                VerifyDiagnostics = r.GetValue(verifyDiagnostics),
                SplitInputFile = r.GetValue(split),
                PrintIrBefore = Flags(r.GetValue(before)),
                PrintIrAfter = Flags(r.GetValue(after)),
                PrintIrAfterAll = r.GetValue(afterAll),
                PrintIrAfterChange = r.GetValue(afterChange),
                PrintIrAfterFailure = r.GetValue(afterFailure),
                Timing = r.GetValue(timing),
                PassStatistics = r.GetValue(statistics),
                CheckUnchanged = r.GetValue(checkUnchanged),
                CrashReproducerPath = r.GetValue(reproducer),
                RunReproducer = r.GetValue(runReproducer),
                PrintOptions = print,
            };
            var ctx = Contexts.CreateDefault(r.GetValue(unregistered));
            var registry = DefaultPasses.CreateRegistry();
            if (r.GetValue(printPipeline))
            {
                return PrintPipeline(ctx, registry, options);
            }

            return CliIo.RunWithInputAndOutput(r.GetValue(input)!, r.GetValue(output), (text, name, writer) =>
                new OptDriver(ctx, registry, options, writer, Console.Error).Run(text, name));
        });
        return cmd;
    }

    private static string[] Flags(string[]? values) =>
        values is null ? [] : values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();

    private static int PrintPipeline(Context ctx, IR.Passes.PassRegistry registry, OptOptions options)
    {
        var text = options.PassPipeline ?? IR.Passes.NamedPipelines.OptimizationLevel(options.OptLevel ?? 0);
        var diags = new DiagnosticBag();
        var pm = IR.Passes.PassManager.Parse(ctx, registry, text, diags);
        if (pm is null)
        {
            Console.Error.WriteLine(diags.Render());
            return 1;
        }

        Console.Out.WriteLine(pm.Pipeline.ToString());
        return 0;
    }
}
