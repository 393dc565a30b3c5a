using BenchmarkDotNet.Attributes;
using Tessera.Npu.Isa;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;

namespace Tessera.Benchmarks;

/// <summary>NPU simulator speed on targets/Npu/examples/gemm.s (64×128×128 int8, 1,048,576 MACs): divide by the mean time
/// for simulated MACs per host second. <c>--filter '*NpuSim*'</c>.</summary>
[MemoryDiagnoser]
public class NpuSimBenchmarks
{
    private AsmProgram _program = null!;
    private NpuTarget _target = null!;
    private byte[] _a = [], _b = [];

    [Params(true, false)]
    public bool Hazards { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Compiler.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Compiler.sln not found");
        }

        _program = Assembler.Assemble(File.ReadAllText(Path.Combine(root, "targets/Npu/examples/gemm.s")));
        _target = TargetLoader.LoadFile(Path.Combine(root, "targets/Npu/configs/e1.json"));
        var rng = new Random(1);
        _a = new byte[64 * 128];
        _b = new byte[128 * 128];
        rng.NextBytes(_a);
        rng.NextBytes(_b);
    }

    [Benchmark]
    public long Gemm64x128x128()
    {
        var s = new Session(_program, _target);
        s.Simulator.Machine.CheckHazards = Hazards;
        s.Write("A", _a);
        s.Write("B", _b);
        return s.Run().Macs;
    }
}
