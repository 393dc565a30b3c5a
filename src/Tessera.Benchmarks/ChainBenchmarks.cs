using System.Text;
using BenchmarkDotNet.Attributes;
using Tessera.Dialects;
using Tessera.IR;
using Tessera.IR.Passes;
using Tessera.Passes;

namespace Tessera.Benchmarks;

/// <summary>
/// The IR core at scale: a chain of N dependent ops in one function, parsed, verified, printed and
/// canonicalized. Time must grow linearly with N; nothing may recurse on N.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class ChainBenchmarks
{
    private string _text = "";
    private Operation _module = null!;
    private readonly Context _ctx = Contexts.CreateDefault();

    [Params(10_000, 100_000)]
    public int Ops { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var sb = new StringBuilder("func.func @chain(%x: i32) -> i32 {\n  %v0 = arith.addi(%x, %x) : i32\n");
        for (int i = 1; i < Ops; i++)
        {
            sb.Append("  %v").Append(i).Append(" = arith.addi(%v").Append(i - 1).Append(", %x) : i32\n");
        }

        sb.Append("  func.return(%v").Append(Ops - 1).Append(") : i32\n}\n");
        _text = sb.ToString();
        _module = Parser.ParseModule(_ctx, _text, "chain.tir");
    }

    [Benchmark]
    public Operation Parse() => Parser.ParseModule(_ctx, _text, "chain.tir");

    [Benchmark]
    public bool Verify() => Verifier.Verify(_module, new DiagnosticBag());

    [Benchmark]
    public int Print() => Printer.PrintOp(_module).Length;

    [Benchmark]
    public PassRunResult ParseAndRunO2()
    {
        var m = Parser.ParseModule(_ctx, _text, "chain.tir");
        var pm = PassManager.Parse(_ctx, DefaultPasses.CreateRegistry(), NamedPipelines.O2, new DiagnosticBag())!;
        pm.CheckUnchanged = false;
        pm.CrashReproducer = false;
        return pm.Run(m, new DiagnosticBag());
    }
}
