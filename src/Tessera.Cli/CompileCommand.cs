using System.CommandLine;
using Tessera.Dialects;
using Tessera.IR;
using Tessera.IR.Passes;
using Tessera.Onnx;
using Tessera.Passes;

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
        var cmd = new Command("compile", "Import a model and compile it");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { emit, pipeline, output, hex, target, targetConfig, report, reportSvg }.Concat(levels))
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

            if (r.GetValue(target) == "npu")
            {
                return CompileNpu(r.GetValue(model)!, r.GetValue(pipeline), Enumerable.Range(0, 4).Where(i => r.GetValue(levels[i])).Select(i => (int?)i).LastOrDefault(), r.GetValue(targetConfig)!, r.GetValue(output),
                    r.GetValue(report) is not null, r.GetValue(reportSvg));
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
            int? level = Enumerable.Range(0, 4).Where(i => r.GetValue(levels[i])).Select(i => (int?)i).LastOrDefault();
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

    /// <summary><c>--target npu</c>: the optimisation pipeline, then <c>npu-tile{config=…}</c>, then the bundle in <paramref name="dir"/>.
    /// Only single-matmul functions lower so far (TSR0841 otherwise).</summary>
    private static int CompileNpu(string modelPath, string? pipeline, int? level, string config, string? dir, bool roofline = false, string? svgPath = null)
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

        var target = Tessera.Npu.Target.TargetLoader.LoadNamed(config);
        var ctx = Contexts.CreateDefault();
        var module = Models.Load(ctx, modelPath);
        int code = RunPipeline(ctx, module, pipeline, level);
        if (code != 0)
        {
            return code;
        }

        var quoted = config.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        var lower = $"builtin.module(func.func(npu-tile{{config=\"{quoted}\"}}))";
        Console.Error.WriteLine($"npu pipeline: {lower}");
        code = RunPipeline(ctx, module, lower, null);
        if (code != 0)
        {
            return code;
        }

        var bundle = NpuMatmulLowering.Emit(module, target);
        bundle.Write(dir);
        var mm = module.Walk().First(o => o.Name == "graph.mat_mul");
        var tiles = NpuMatmulLowering.Tiles(mm)!;
        var (m, n, k, type) = NpuMatmulLowering.Problem(mm);
        Console.Out.WriteLine($"{dir}: {type} matmul {m}x{n}x{k} on {target.Name}, tiles Mt={tiles.Mt} Nt={tiles.Nt} Kt={tiles.Kt}, {(tiles.StationaryA ? "A" : "B")} stationary (estimated {tiles.EstimatedCycles} cycles, floor {Tessera.Npu.Lowering.TileCostModel.FloorCycles(target, m, n, k):0}); " +
            $"{bundle.Program.Instrs.Count} instructions, {bundle.Program.Descriptors.Count} descriptors");
        if (roofline)
        {
            var report = Tessera.Npu.Reports.RooflineReport.Build(bundle, [new Tessera.Npu.Reports.LayerSpec(LayerName(mm.Location), (long)m * n * k)]);
            Console.Out.Write(Tessera.Npu.Reports.RooflineTable.Format(report));
            if (svgPath is not null)
            {
                File.WriteAllText(svgPath, Tessera.Npu.Reports.RooflineSvg.Render(report));
                Console.Out.WriteLine($"roofline plot: {svgPath}");
            }
        }

        return 0;
    }

    /// <summary>A layer's name for reports: the op's location, with a file location shortened to FILE-NAME:LINE:COL.</summary>
    public static string LayerName(Location loc) => loc switch
    {
        FileLineColLoc f => $"{Path.GetFileName(f.File)}:{f.Line.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{f.Column.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        NameLoc n => n.Name,
        _ => loc.Text,
    };

    /// <summary>Runs the given pipeline (or -O level, or nothing) with verification; prints diagnostics.</summary>
    public static int RunPipeline(Context ctx, Operation module, string? pipeline, int? level)
    {
        var text = pipeline ?? NamedPipelines.OptimizationLevel(level ?? 0);
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), text, diags);
        int code = pm is null ? 1 : PassManager.ExitCode(pm.Run(module, diags));
        foreach (var d in diags.Items)
        {
            Console.Error.WriteLine(d.Render());
        }

        return code;
    }
}
