using System.CommandLine;
using System.Globalization;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.IR;
using Tessera.Onnx;

namespace Tessera.Cli;

/// <summary><c>tessera run MODEL --target ref --input @x.npy ...</c>: evaluate, write outputs, compare with expected ones (like iree-run-module).</summary>
internal static class RunCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "An .onnx model or .tir file" };
        var target = new Option<string>("--target") { Description = "Where to run: ref (the reference evaluator)", DefaultValueFactory = _ => "ref" };
        var inputs = new Option<string[]>("--input") { Description = "An input tensor, @file.npy or @file.pb (ONNX TensorProto), in order; repeat per input", AllowMultipleArgumentsPerToken = false };
        var expected = new Option<string[]>("--expected-output") { Description = "An expected output, @file.npy or @file.pb, in order" };
        var outDir = new Option<string?>("--output-dir") { Description = "Write each output as output_<i>.npy into this folder" };
        var atol = new Option<double>("--atol") { Description = "Absolute tolerance", DefaultValueFactory = _ => 1e-4 };
        var rtol = new Option<double>("--rtol") { Description = "Relative tolerance", DefaultValueFactory = _ => 1e-3 };
        var pipeline = new Option<string?>("--pass-pipeline") { Description = "Pipeline to run before evaluating" };
        var levels = Enumerable.Range(0, 4).Select(i => new Option<bool>($"-O{i}") { Description = $"Run the -O{i} pipeline before evaluating" }).ToArray();
        var entry = new Option<string>("--function") { Description = "The function to run (default: main, else prefill, else the first)", DefaultValueFactory = _ => "main" };
        var cmd = new Command("run", "Evaluate a model on inputs and check its outputs");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { target, inputs, expected, outDir, atol, rtol, pipeline, entry }.Concat(levels))
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            if (r.GetValue(target) != "ref")
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: --target {r.GetValue(target)} is not available yet; use --target ref");
                return 1;
            }

            var ctx = Contexts.CreateDefault();
            var module = Models.Load(ctx, r.GetValue(model)!);
            int? level = Enumerable.Range(0, 4).Where(i => r.GetValue(levels[i])).Select(i => (int?)i).LastOrDefault();
            int code = CompileCommand.RunPipeline(ctx, module, r.GetValue(pipeline), level);
            if (code != 0)
            {
                return code;
            }

            var func = Models.EntryFunction(module, r.GetValue(entry)!)
                ?? throw new DiagnosticException(new Diagnostic(Severity.Error, DiagnosticCodes.BadArgument, $"{r.GetValue(model)}: no function to run", Location.Unknown));
            var args = (r.GetValue(inputs) ?? []).Select(p => TensorFiles.Read(p.TrimStart('@'))).ToList();
            var outs = GraphEvaluator.Run(func, args);
            if (r.GetValue(outDir) is { } dir)
            {
                Directory.CreateDirectory(dir);
                for (int i = 0; i < outs.Count; i++)
                {
                    Npy.Write(Path.Combine(dir, $"output_{i}.npy"), outs[i]);
                }
            }

            var want = (r.GetValue(expected) ?? []).Select(p => TensorFiles.Read(p.TrimStart('@'))).ToList();
            if (want.Count == 0)
            {
                foreach (var o in outs)
                {
                    Console.Out.WriteLine(o.ToString());
                }

                return 0;
            }

            // Fewer expected outputs than results check the leading ones (a GGUF @prefill returns logits, then its KV caches).
            if (want.Count > outs.Count)
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: {want.Count} expected outputs given but the function returns {outs.Count}");
                return 1;
            }

            bool ok = true;
            for (int i = 0; i < want.Count; i++)
            {
                var c = Compare.AllClose(outs[i], want[i], r.GetValue(rtol), r.GetValue(atol));
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"output #{i}: {(c.Ok ? "match" : "MISMATCH")}: {c.Message}"));
                ok &= c.Ok;
            }

            return ok ? 0 : 1;
        }));
        return cmd;
    }
}
