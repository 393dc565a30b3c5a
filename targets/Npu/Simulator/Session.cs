using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Npu.Simulator;

/// <summary>A program ready to run: its target, a simulator at its entry point, and tensors read and written by name.</summary>
public sealed class Session
{
    public AsmProgram Program { get; }
    public NpuTarget Target { get; }
    public Simulator Simulator { get; }

    public Session(AsmProgram program, NpuTarget target, string entry = "main")
    {
        Program = program;
        Target = target;
        if (!program.Entries.TryGetValue(entry, out int pc))
        {
            throw NpuCodes.Error(NpuCodes.BundleBad, entry, $"no entry point '{entry}' (has {string.Join(", ", program.Entries.Keys)})");
        }

        Simulator = new Simulator(target, program.Instrs, program.Descriptors, pc);
    }

    public TensorDecl Tensor(string name) =>
        Program.Tensors.FirstOrDefault(t => t.Name == name) ?? throw NpuCodes.Error(NpuCodes.BundleBad, name, $"no tensor named '{name}'");

    public void Write(string name, ReadOnlySpan<byte> data)
    {
        var t = Tensor(name);
        if (data.Length != t.Bytes)
        {
            throw NpuCodes.Error(NpuCodes.BundleBad, name, $"tensor {name} needs {t.Bytes} bytes, got {data.Length}");
        }

        Simulator.Machine.Dram.Write(t.DramAddress, data, name);
    }

    public byte[] Read(string name)
    {
        var t = Tensor(name);
        return Simulator.Machine.Dram.Read(t.DramAddress, (int)t.Bytes, name);
    }

    public SimResult Run(bool trace = false) => Simulator.Run(trace);
}
