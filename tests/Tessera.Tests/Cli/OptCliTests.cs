using System.Diagnostics;
using Tessera.Dialects;
using Tessera.IR.Passes;
using Tessera.IR.Tools;
using Tessera.Passes;

namespace Tessera.Tests.Cli;

/// <summary>The opt driver in-process, and the real <c>tessera</c> executable for flags and exit codes.</summary>
public class OptCliTests
{
    private static (int Code, string Out, string Err) Drive(string text, OptOptions options, PassRegistry? registry = null, string name = "in.tir")
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new OptDriver(Contexts.CreateDefault(), registry ?? DefaultPasses.CreateRegistry(), options, o, e).Run(text, name);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void VerifierDiagnosticsFileMatchesItsAnnotations()
    {
        var path = Path.Combine(Repo.Root, "tests/Tessera.Tests/Diagnostics/verifier-invalid.tir");
        var (code, _, err) = Drive(File.ReadAllText(path), new OptOptions { VerifyDiagnostics = true, SplitInputFile = true }, name: path);
        Assert.True(code == 0, err);
    }

    [Fact]
    public void VerifyDiagnosticsFailsWhenAnExpectedErrorIsMissing()
    {
        var text = "func.func @f(%x: i32) -> i32 {\n  // expected-error @+1 {{no such error}}\n  func.return(%x) : i32\n}\n";
        var (code, _, err) = Drive(text, new OptOptions { VerifyDiagnostics = true });
        Assert.Equal(1, code);
        Assert.Contains("was not produced: no such error", err);
    }

    [Fact]
    public void SplitInputFilePrintsEachChunk()
    {
        var text = "func.func @a() {\n  func.return\n}\n// -----\nfunc.func @b() {\n  func.return\n}\n";
        var (code, output, _) = Drive(text, new OptOptions { SplitInputFile = true });
        Assert.Equal(0, code);
        Assert.Contains("@a", output);
        Assert.Contains("// -----", output);
        Assert.True(output.IndexOf("@a", StringComparison.Ordinal) < output.IndexOf("@b", StringComparison.Ordinal));
    }

    [Fact]
    public void InvalidIrIsADiagnosedErrorWithExitCodeOne()
    {
        var (code, output, err) = Drive("func.func @f(%x: i32) -> f32 {\n  func.return(%x) : i32\n}\n", new OptOptions());
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("in.tir:2:3: error TSR0207: 'func.return' return operand #0 has type i32", err);
    }

    [Fact]
    public void UnknownPassIsReportedWithASuggestion()
    {
        var (code, _, err) = Drive("func.func private @f()\n", new OptOptions { PassPipeline = "builtin.module(func.func(canonicalise))" });
        Assert.Equal(1, code);
        Assert.Contains(DiagnosticCodes.PipelineUnknownPass, err);
        Assert.Contains("canonicalize", err);
    }

    private sealed class ThrowingPass : Pass
    {
        public override string Flag => "test-throw";
        public override string Summary => "throws, to test crash reproducers";
        public override PassResult Run(Operation op, PassContext context) => throw new InvalidOperationException("boom");
    }

    private sealed class LyingPass : Pass
    {
        public override string Flag => "test-lie";
        public override string Summary => "changes the IR but says it did not";

        public override PassResult Run(Operation op, PassContext context)
        {
            op.SetAttr("touched", UnitAttr.Instance);
            return PassResult.Unchanged;
        }
    }

    [Fact]
    public void CrashInAPassWritesAReproducerThatReruns()
    {
        var registry = DefaultPasses.CreateRegistry();
        registry.Register("test-throw", () => new ThrowingPass());
        var repro = Path.Combine(Path.GetTempPath(), $"tessera-test-{Guid.NewGuid():N}.tir");
        try
        {
            var input = "func.func @f(%x: i32) -> i32 {\n  func.return(%x) : i32\n}\n";
            var (code, _, err) = Drive(input, new OptOptions { PassPipeline = "builtin.module(canonicalize,test-throw)", CrashReproducerPath = repro }, registry);
            Assert.Equal(2, code);
            Assert.Contains(DiagnosticCodes.PassInternalError, err);
            var text = File.ReadAllText(repro);
            Assert.StartsWith(CrashReproducer.HeaderPrefix + "builtin.module(canonicalize,test-throw)", text);
            Assert.Contains("func.func @f", text);
            var (again, _, _) = Drive(text, new OptOptions { RunReproducer = true, CrashReproducerPath = repro + ".2" }, registry);
            Assert.Equal(2, again);
        }
        finally
        {
            File.Delete(repro);
            File.Delete(repro + ".2");
        }
    }

    [Fact]
    public void APassThatLiesAboutChangingNothingIsCaught()
    {
        var registry = DefaultPasses.CreateRegistry();
        registry.Register("test-lie", () => new LyingPass());
        var repro = Path.Combine(Path.GetTempPath(), $"tessera-test-{Guid.NewGuid():N}.tir");
        try
        {
            var (code, _, err) = Drive("func.func private @f()\n", new OptOptions { PassPipeline = "builtin.module(test-lie)", CheckUnchanged = true, CrashReproducerPath = repro }, registry);
            Assert.Equal(2, code);
            Assert.Contains(DiagnosticCodes.PassUnchangedLie, err);
        }
        finally
        {
            File.Delete(repro);
        }
    }

    [Fact]
    public void PrintIrAfterChangeTimingAndStatistics()
    {
        var text = File.ReadAllText(Path.Combine(Repo.Root, "samples/ir/example.tir"));
        var (code, _, err) = Drive(text, new OptOptions
        {
            PassPipeline = "builtin.module(func.func(canonicalize,cse,dce))",
            PrintIrAfterChange = true,
            Timing = true,
            PassStatistics = true,
        });
        Assert.Equal(0, code);
        Assert.Contains("IR Dump After canonicalize", err);
        Assert.Contains("IR Dump After cse", err);
        Assert.DoesNotContain("IR Dump After dce", err); // nothing left for dce to do
        Assert.Contains("num-cse'd", err);
        Assert.Contains("total", err);
    }

    private static (int Code, string Out, string Err) Tessera(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "tessera.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void OptHelpListsTheFlags()
    {
        var (code, output, _) = Tessera("opt", "--help");
        Assert.Equal(0, code);
        foreach (var flag in new[] { "--pass-pipeline", "-O2", "--verify-diagnostics", "--split-input-file", "--no-verify", "--print-ir-before", "--print-ir-after",
                     "--print-ir-after-all", "--print-ir-after-change", "--print-ir-after-failure", "--timing", "--pass-statistics", "-o" })
        {
            Assert.Contains(flag, output);
        }
    }

    [Fact]
    public void TheReadmeSampleCommandPrintsTheSimplifiedModule()
    {
        var (code, output, err) = Tessera("opt", "samples/ir/example.tir", "--pass-pipeline=builtin.module(func.func(canonicalize,cse))");
        Assert.True(code == 0, err);
        Assert.Contains("%0 = arith.constant 5 : i32", output);
        Assert.Single(output.Split('\n'), l => l.Contains("arith.muli"));
    }

    [Fact]
    public void MissingInputAndOutputOntoInputAreDiagnosed()
    {
        Assert.Equal(1, Tessera("opt", "does/not/exist.tir").Code);
        var tmp = Path.GetTempFileName();
        try
        {
            File.WriteAllText(tmp, "func.func private @f()\n");
            var (code, _, err) = Tessera("opt", tmp, "-o", tmp);
            Assert.Equal(1, code);
            Assert.Contains(DiagnosticCodes.OutputRefused, err);
            Assert.Equal("func.func private @f()\n", File.ReadAllText(tmp));
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    [Fact]
    public void OptLevelPipelinesPrint()
    {
        var (code, output, _) = Tessera("opt", "-", "-O2", "--print-pipeline");
        Assert.Equal(0, code);
        Assert.Equal(NamedPipelines.O2, output.Trim());
    }
}

/// <summary><c>tessera run</c> on every corpus ONNX model with its reference .npy files exits 0; a wrong expectation exits 1.</summary>
public class RunCliTests
{
    private static (int Code, string Out, string Err) Tessera(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tessera.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("llama-dynamo")]
    [InlineData("qwen2")]
    [InlineData("gpt2")]
    public void RunMatchesTorchLogits(string model)
    {
        var dir = $"tests/data/models/{model}";
        var (code, output, err) = Tessera("run", $"{dir}/model.onnx", "--target", "ref", "-O2", "--input", $"@{dir}/input_ids.npy", "--expected-output", $"@{dir}/logits_torch.npy", "--atol", "1e-4", "--rtol", "1e-3");
        Assert.True(code == 0, output + err);
        Assert.Contains("output #0: match", output);
    }

    [Fact]
    public void MismatchPrintsErrorsAndExitsOne()
    {
        var dir = "tests/data/models/gpt2";
        var (code, output, _) = Tessera("run", $"{dir}/model.onnx", "--input", $"@{dir}/input_ids.npy", "--expected-output", $"@tests/data/models/llama/logits_torch.npy");
        Assert.Equal(1, code);
        Assert.Contains("MISMATCH", output);
        Assert.Contains("max abs error", output);
    }

    [Fact]
    public void RunReadsOnnxTensorProtoFilesAndWritesNpy()
    {
        var test = "tests/data/onnx-node/test_add";
        var outDir = Directory.CreateTempSubdirectory("tessera-run-").FullName;
        try
        {
            var (code, output, err) = Tessera("run", $"{test}/model.onnx", "--input", $"@{test}/test_data_set_0/input_0.pb", "--input", $"@{test}/test_data_set_0/input_1.pb",
                "--expected-output", $"@{test}/test_data_set_0/output_0.pb", "--output-dir", outDir);
            Assert.True(code == 0, output + err);
            var written = global::Tessera.Onnx.Npy.Read(Path.Combine(outDir, "output_0.npy"));
            var expected = global::Tessera.Onnx.TensorFiles.Read(Path.Combine(Repo.Root, test, "test_data_set_0", "output_0.pb"));
            Assert.True(global::Tessera.Onnx.Compare.AllClose(written, expected, 0, 0).Ok);
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }

    [Fact]
    public void InspectListsOpsAndUnsupportedOnesAndBadModelsExitOne()
    {
        var (code, output, _) = Tessera("inspect", "tests/data/models/llama/model.onnx");
        Assert.Equal(0, code);
        Assert.Contains("input_ids: INT64[1x16]", output);
        Assert.Contains("parameters: 1,443,072", output);
        Assert.Contains("unsupported ops: 0", output);
        Assert.Matches(@"\s+20\s+MatMul", output);
        var junk = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(junk, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
            var (badCode, _, err) = Tessera("compile", junk, "--emit", "ir");
            Assert.Equal(1, badCode);
            Assert.Contains("TSR0502", err);
            Assert.DoesNotContain("   at ", err);
        }
        finally
        {
            File.Delete(junk);
        }
    }
}

public class CompileOutputTests
{
    [Fact]
    public void CompileRefusesToOverwriteItsInput()
    {
        var dir = Directory.CreateTempSubdirectory("tessera-compile-").FullName;
        try
        {
            var model = Path.Combine(dir, "m.tir");
            File.WriteAllText(model, "func.func private @f()\n");
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "tessera.dll"), "compile", model, "--emit", "ir", "-o", model })
            {
                psi.ArgumentList.Add(a);
            }

            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(1, p.ExitCode);
            Assert.Contains(DiagnosticCodes.OutputRefused, err);
            Assert.Equal("func.func private @f()\n", File.ReadAllText(model));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
