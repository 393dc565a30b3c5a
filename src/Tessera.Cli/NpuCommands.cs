using System.CommandLine;
using Tessera.IR;
using Tessera.Npu;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.Onnx;
using Tessera.Passes.Npu;

namespace Tessera.Cli;

/// <summary><c>tessera asm</c>, <c>tessera disasm</c> and <c>tessera sim</c>: the NPU assembler, disassembler and simulator.</summary>
internal static class NpuCommands
{
    public static Command Asm()
    {
        var input = new Argument<string?>("program") { Description = "Assembly source (.s)", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<string?>("-o") { Description = "Bundle folder to write" };
        var target = new Option<string?>("--target") { Description = "Target name (e1, edge-large) or .json path; default: the program's .target" };
        var data = new Option<string[]>("--data") { Description = "NAME=@file.npy: initial contents of a tensor (input or weight)" };
        var expected = new Option<string[]>("--expected") { Description = "NAME=@file.npy: expected final contents of an output tensor" };
        var table = new Option<bool>("--print-encoding-table") { Description = "Print the ISA encoding table (markdown) and exit" };
        var cmd = new Command("asm", "Assemble an NPU program into a simulator bundle") { input, output, target, data, expected, table };
        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            if (r.GetValue(table))
            {
                Console.Out.Write(Opcodes.EncodingTable());
                return 0;
            }

            if (r.GetValue(input) is not { } path || r.GetValue(output) is not { } dir)
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: asm needs a program and -o BUNDLE_DIR");
                return 1;
            }

            var program = Assembler.Assemble(ReadText(path), path);
            var bundle = new NpuBundle
            {
                Program = program,
                Target = TargetLoader.LoadNamed(r.GetValue(target) ?? program.Target),
                Data = Bind(program, r.GetValue(data)),
                Expected = Bind(program, r.GetValue(expected)),
            };
            bundle.Write(dir);
            Console.Out.WriteLine($"{dir}: {program.Instrs.Count} instructions, {program.Descriptors.Count} descriptors, {program.Tensors.Count} tensors, target {bundle.Target.Name}");
            return 0;
        }));
        return cmd;
    }

    public static Command Disasm()
    {
        var input = new Argument<string>("bundle") { Description = "A bundle folder, or a program.bin" };
        var cmd = new Command("disasm", "Print a bundle's program as assembly that reassembles to the same bytes") { input };
        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            var path = r.GetValue(input)!;
            if (File.Exists(path))
            {
                var p = new AsmProgram();
                p.Instrs.AddRange(AsmProgram.DecodeProgram(File.ReadAllBytes(path)));
                p.Entries["main"] = 0;
                Console.Out.Write(Disassembler.Format(p));
            }
            else
            {
                Console.Out.Write(Disassembler.Format(BundleReader.Read(path).Program));
            }

            return 0;
        }));
        return cmd;
    }

    public static Command Sim()
    {
        var input = new Argument<string>("bundle") { Description = "A bundle folder written by tessera asm" };
        var inputs = new Option<string[]>("--input") { Description = "@file.npy for each input tensor, in manifest order (overrides the bundle's data)" };
        var expected = new Option<string[]>("--expected-output") { Description = "@file.npy for each output tensor, in manifest order (overrides the bundle's expected outputs)" };
        var trace = new Option<string?>("--trace") { Description = "Write a Chrome/Perfetto trace (JSON) with one track per queue" };
        var entry = new Option<string>("--entry") { Description = "Entry point", DefaultValueFactory = _ => "main" };
        var outDir = new Option<string?>("--output-dir") { Description = "Write each output tensor as NAME.npy" };
        var atol = new Option<double?>("--atol") { Description = "Compare outputs by value, |got - want| <= atol + rtol*|want| (default: bit-exact)" };
        var rtol = new Option<double?>("--rtol") { Description = "Relative tolerance for --atol comparisons (default 0)" };
        var timingOnly = new Option<bool>("--timing-only")
        {
            Description = "Time every instruction and check bounds and hazards, but move no data and compute nothing (same cycles; no outputs, host steps skipped)",
        };
        var cmd = new Command("sim", "Run a bundle on the bit-exact, cycle-modelled NPU simulator") { input, inputs, expected, trace, entry, outDir, atol, rtol, timingOnly };
        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            bool timing = r.GetValue(timingOnly);
            var bundle = BundleReader.Read(r.GetValue(input)!, loadData: !timing);
            var program = bundle.Program;
            if (bundle.Steps.Count == 0 && r.GetValue(entry) != "main")
            {
                bundle = new NpuBundle { Program = program, Target = bundle.Target, Data = bundle.Data, Expected = bundle.Expected,
                    Steps = [new BundleStep("npu", r.GetValue(entry)!, [], [], "program", r.GetValue(entry)!)] };
            }

            if (timing && (r.GetValue(outDir) is not null || r.GetValue(expected) is { Length: > 0 } || r.GetValue(inputs) is { Length: > 0 }))
            {
                Console.Error.WriteLine($"error {DiagnosticCodes.BadArgument}: --timing-only computes no values; it takes no --input, --expected-output or --output-dir");
                return 1;
            }

            var session = new BundleSession(bundle, timing);
            var want = new Dictionary<string, byte[]>(bundle.Expected);
            var wantFiles = new Dictionary<string, NDArray>();
            var data = new Dictionary<string, byte[]>();
            BindInOrder(program, "input", r.GetValue(inputs), data);
            var outputs = program.Tensors.Where(t => t.Role == "output").ToList();
            var files = r.GetValue(expected) ?? [];
            if (files.Length > outputs.Count)
            {
                throw NpuCodes.Error(NpuCodes.BundleBad, "", $"{files.Length} files given but the bundle has {outputs.Count} output tensors");
            }

            for (int i = 0; i < files.Length; i++)
            {
                wantFiles[outputs[i].Name] = Npy.Read(files[i].TrimStart('@'));
            }

            foreach (var (name, bytes) in data)
            {
                session.Write(name, bytes);
            }

            var host = timing || bundle.HostModule is null ? null : new HostRunner(Contexts.CreateDefault(allowUnregistered: true), bundle.HostModule);
            var run = session.Run(host, trace: r.GetValue(trace) is not null);
            var result = run.Total;
            Console.Out.Write(Report.Summary(result, bundle.Target));
            int hostSteps = run.Steps.Count(s => s.Step.Kind == "host");
            if (bundle.Steps.Count > 0)
            {
                Console.Out.WriteLine($"  steps: {run.Steps.Count - hostSteps} on the NPU, {hostSteps} on the host (not in the cycle count)");
            }

            if (r.GetValue(trace) is { } tracePath)
            {
                File.WriteAllText(tracePath, Report.TraceJson(result, bundle.Target, program.Instrs.Select(Disassembler.Format).ToList()));
            }

            if (timing)
            {
                Console.Out.WriteLine("  timing only: cycles, bounds and hazards checked; no data moved or computed, host steps skipped, outputs not checked");
                return 0;
            }

            bool ok = true;
            foreach (var t in outputs)
            {
                var got = session.Read(t.Name);
                if (r.GetValue(outDir) is { } dir)
                {
                    Directory.CreateDirectory(dir);
                    Npy.Write(Path.Combine(dir, t.Name + ".npy"), AsArray(t, got));
                }

                if (wantFiles.TryGetValue(t.Name, out var wf) && (r.GetValue(atol) is not null || r.GetValue(rtol) is not null))
                {
                    var cmp = Compare.AllClose(AsArray(t, got), wf, r.GetValue(rtol) ?? 0, r.GetValue(atol) ?? 0);
                    Console.Out.WriteLine($"output {t.Name}: {(cmp.Ok ? "match" : "MISMATCH")}: {cmp.Message}");
                    ok &= cmp.Ok;
                    continue;
                }

                if (wantFiles.TryGetValue(t.Name, out wf))
                {
                    want[t.Name] = Tessera.Dialects.Graph.Convert.ToAttr(wf).Storage.Span.ToArray();
                }

                if (want.TryGetValue(t.Name, out var w))
                {
                    int bad = Enumerable.Range(0, got.Length).FirstOrDefault(i => i >= w.Length || got[i] != w[i], -1);
                    bool match = bad < 0 && got.Length == w.Length;
                    Console.Out.WriteLine(match ? $"output {t.Name}: match (bit-exact)" : $"output {t.Name}: MISMATCH at byte {bad}");
                    ok &= match;
                }
            }

            if (!ok)
            {
                Console.Error.WriteLine($"error {NpuCodes.SimMismatch}: an output does not match its expected value");
            }

            return ok ? 0 : 1;
        }));
        return cmd;
    }

    /// <summary>A DRAM tensor's bytes as an array of its manifest dtype.</summary>
    private static NDArray AsArray(TensorDecl t, byte[] bytes)
    {
        Tessera.IR.Type et = t.Type switch
        {
            "f16" => FloatType.F16, "bf16" => FloatType.BF16, "f32" => FloatType.F32, "i64" => IntegerType.I64,
            "i32" => IntegerType.I32, "i8" => IntegerType.I8, "bool" => IntegerType.I1,
            _ => throw NpuCodes.Error(NpuCodes.BundleBad, t.Name, $"tensor {t.Name} has dtype {t.Type}, which cannot be compared by value"),
        };
        return Tessera.Dialects.Graph.Convert.FromAttr(new DenseElementsAttr(TensorType.Of(et, t.Shape), new ArrayStorage(bytes)));
    }

    private static string ReadText(string path) => File.Exists(path) ? File.ReadAllText(path)
        : throw new DiagnosticException(new Diagnostic(Severity.Error, DiagnosticCodes.FileNotFound, $"{path}: no such file", Location.Unknown));

    private static byte[] TensorBytes(string path) => Tessera.Dialects.Graph.Convert.ToAttr(Npy.Read(path.TrimStart('@'))).Storage.Span.ToArray();

    private static Dictionary<string, byte[]> Bind(AsmProgram p, string[]? pairs)
    {
        var d = new Dictionary<string, byte[]>();
        foreach (var pair in pairs ?? [])
        {
            int eq = pair.IndexOf('=');
            var name = eq > 0 ? pair[..eq] : throw new DiagnosticException(new Diagnostic(Severity.Error, DiagnosticCodes.BadArgument, $"'{pair}' is not NAME=@file.npy", Location.Unknown));
            var t = p.Tensors.FirstOrDefault(x => x.Name == name) ?? throw NpuCodes.Error(NpuCodes.BundleBad, name, $"no tensor named '{name}'");
            var bytes = TensorBytes(pair[(eq + 1)..]);
            d[name] = bytes.Length == t.Bytes ? bytes : throw NpuCodes.Error(NpuCodes.BundleBad, name, $"tensor {name} needs {t.Bytes} bytes, the file has {bytes.Length}");
        }

        return d;
    }

    private static void BindInOrder(AsmProgram p, string role, string[]? files, Dictionary<string, byte[]> into)
    {
        var ts = p.Tensors.Where(t => t.Role == role).ToList();
        var fs = files ?? [];
        if (fs.Length > ts.Count)
        {
            throw NpuCodes.Error(NpuCodes.BundleBad, "", $"{fs.Length} files given but the bundle has {ts.Count} {role} tensors");
        }

        for (int i = 0; i < fs.Length; i++)
        {
            into[ts[i].Name] = TensorBytes(fs[i]);
        }
    }
}
