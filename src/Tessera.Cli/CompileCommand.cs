using System.CommandLine;
using Tessera.Dialects;
using Tessera.IR;
using Tessera.IR.Passes;
using Tessera.Onnx;
using Tessera.Passes;
using Tessera.Passes.Npu;

namespace Tessera.Cli;

/// <summary><c>tessera compile MODEL --emit ir</c>: import, run a pipeline, print the IR.</summary>
internal static class CompileCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "An .onnx model or .tir file" };
        var emit = new Option<string>("--emit") { Description = "What to produce: ir", DefaultValueFactory = _ => "ir" };
        var pipeline = new Option<string?>("--pass-pipeline") { Description = "Textual pipeline to run after import" };
        var levels = Enumerable.Range(0, 4).Select(i => new Option<bool>($"-O{i}") { Description = $"Run the -O{i} pipeline" }).ToArray();
        var output = new Option<string?>("-o", "--output") { Description = "Write the result here instead of standard output" };
        var hex = new Option<bool>("--print-large-constants-hex") { Description = "Print weights in full, as hex, instead of eliding them" };
        var target = new Option<string>("--target") { Description = "ir (print the IR) or npu (write an NPU bundle to -o)", DefaultValueFactory = _ => "ir" };
        var targetConfig = new Option<string>("--target-config") { Description = "NPU target description: e1, edge-large or a .json path", DefaultValueFactory = _ => "e1" };
        var report = new Option<string?>("--report") { Description = "With --target npu: roofline (simulate the bundle with zero inputs and print a per-layer table)" };
        var reportSvg = new Option<string?>("--report-svg") { Description = "With --report roofline: also write the roofline plot here (SVG)" };
        var dims = new Option<string?>("--dims") { Description = "With --target npu: bind symbolic dims, e.g. seq=16 (the NPU needs static shapes)" };
        var function = new Option<string>("--function") { Description = "With --target npu: the function to compile (default: main, else prefill, else the first)", DefaultValueFactory = _ => "main" };
        var precision = new Option<string>("--precision") { Description = "With --target npu: the float type f32 tensors become, f16 or bf16", DefaultValueFactory = _ => "f16" };
        var printPipeline = new Option<bool>("--print-pipeline") { Description = "Print the whole pass pipeline this command would run, then stop" };
        var timing = new Option<bool>("--timing") { Description = "With --target npu: print the per-pass time table and each phase's wall time on stderr" };
        var cmd = new Command("compile", "Import a model and compile it");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { emit, pipeline, output, hex, target, targetConfig, report, reportSvg, dims, function, precision, printPipeline, timing }.Concat(levels))
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            if (r.GetValue(report) is { } rep && (rep != "roofline" || r.GetValue(target) != "npu"))
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: --report {rep} is not supported; use --report roofline with --target npu");
                return 1;
            }

            if (r.GetValue(reportSvg) is not null && r.GetValue(report) is null)
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: --report-svg needs --report roofline");
                return 1;
            }

            int? level = Enumerable.Range(0, 4).Where(i => r.GetValue(levels[i])).Select(i => (int?)i).LastOrDefault();
            if (r.GetValue(target) == "npu")
            {
                var opt = r.GetValue(pipeline) ?? NamedPipelines.OptimizationLevel(level ?? 2);
                var full = NpuPipelines.Full(DefaultPasses.CreateRegistry(), opt, r.GetValue(targetConfig)!, r.GetValue(dims) ?? "", r.GetValue(precision)!, r.GetValue(function)!);
                if (r.GetValue(printPipeline))
                {
                    Console.Out.WriteLine(full);
                    return 0;
                }

                return CompileNpu(r.GetValue(model)!, full, r.GetValue(output), r.GetValue(report) is not null, r.GetValue(reportSvg), r.GetValue(timing));
            }

            if (r.GetValue(printPipeline))
            {
                Console.Out.WriteLine(r.GetValue(pipeline) ?? NamedPipelines.OptimizationLevel(level ?? 0));
                return 0;
            }

            if (r.GetValue(target) != "ir")
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: --target {r.GetValue(target)} is not supported; use ir or npu");
                return 1;
            }

            if (r.GetValue(emit) != "ir")
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: --emit {r.GetValue(emit)} is not supported yet; use --emit ir");
                return 1;
            }

            var ctx = Contexts.CreateDefault();
            var module = Models.Load(ctx, r.GetValue(model)!);
            int code = RunPipeline(ctx, module, r.GetValue(pipeline), level);
            if (code != 0)
            {
                return code;
            }

            var text = Printer.PrintOp(module, r.GetValue(hex) ? PrintOptions.Full : PrintOptions.Default);
            if (r.GetValue(output) is { } path)
            {
                return CliIo.WriteOutput(r.GetValue(model), path, text);
            }
            else
            {
                Console.Out.Write(text);
            }

            return 0;
        }));
        return cmd;
    }

    /// <summary><c>--target npu</c>: the whole pipeline (<see cref="NpuPipelines.Full"/>), then the bundle in <paramref name="dir"/>.</summary>
    private static int CompileNpu(string modelPath, string pipeline, string? dir, bool roofline, string? svgPath, bool timing)
    {
        if (dir is null)
        {
            Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: --target npu needs -o BUNDLE_DIR");
            return 1;
        }

        if (File.Exists(dir))
        {
            Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: -o {dir} is a file; --target npu writes a bundle folder");
            return 1;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string name)
        {
            if (timing)
            {
                Console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"phase {name}: {clock.Elapsed.TotalSeconds:0.00} s"));
            }

            clock.Restart();
        }

        var ctx = Contexts.CreateDefault();
        var module = Models.Load(ctx, modelPath);
        Phase("import");
        Console.Error.WriteLine($"npu pipeline: {pipeline}");
        // No crash reproducer: it prints the whole module, weights in full, before each pass; for a model of 1 GB of
        // weights that text is larger than a .NET string can be, and even for small models it dominated compile time.
        int code = RunPipeline(ctx, module, pipeline, null, reproducer: false, timing: timing);
        Phase("pipeline");
        if (code != 0)
        {
            return code;
        }

        var program = module.Regions[0].Operations.Single(o => o.Name == Tessera.Dialects.Npu.NpuDialect.Program.Name);
        var bundle = Tessera.Dialects.Npu.NpuProgramIR.ToBundle(program);
        Phase("lowering");
        bundle.Write(dir);
        Phase("bundle");
        int npu = bundle.Steps.Count(s => s.Kind == "npu"), hosted = bundle.Steps.Count - npu;
        Console.Out.WriteLine($"{dir}: @{SymbolTable.GetName(program)} on {bundle.Target.Name}: {bundle.Steps.Count} steps, {npu} NPU kernels, {hosted} host ops; " +
            $"{bundle.Program.Instrs.Count} instructions, {bundle.Program.Descriptors.Count} descriptors, {bundle.Program.Tensors.Count} DRAM tensors " +
            $"({bundle.Program.Tensors.Max(t => t.DramAddress + t.Bytes)} bytes)");
        foreach (var g in bundle.Steps.Where(s => s.Kind == "host").GroupBy(s => (s.Op, s.Reason)).OrderBy(g => g.Key.Op, StringComparer.Ordinal))
        {
            Console.Out.WriteLine($"  host: {g.Key.Op} x{g.Count()}: {g.Key.Reason}");
        }

        if (roofline)
        {
            var specs = Tessera.Dialects.Npu.NpuProgramIR.Layers(program).Select(l => new Tessera.Npu.Reports.LayerSpec(l.Step, l.Layer, l.ElementType, l.Macs, l.MinDramBytes)).ToList();
            var report = Tessera.Npu.Reports.RooflineReport.Build(bundle, specs);
            Console.Out.Write(Tessera.Npu.Reports.RooflineTable.Format(report));
            if (svgPath is not null)
            {
                File.WriteAllText(svgPath, Tessera.Npu.Reports.RooflineSvg.Render(report));
                Console.Out.WriteLine($"roofline plot: {svgPath}");
            }

            Phase("roofline");
        }

        return 0;
    }

    /// <summary>Runs the given pipeline (or -O level, or nothing) with verification; prints diagnostics.</summary>
    public static int RunPipeline(Context ctx, Operation module, string? pipeline, int? level, bool reproducer = true, bool timing = false)
    {
        var text = pipeline ?? NamedPipelines.OptimizationLevel(level ?? 0);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), text, diags);
        if (pm is not null)
        {
            pm.CrashReproducer = reproducer;
            pm.Timing = timing;
        }

        int code = pm is null ? 1 : PassManager.ExitCode(pm.Run(module, diags));
        foreach (var d in diags.Items)
        {
            Console.Error.WriteLine(d.Render());
        }

        return code;
    }
}
