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
