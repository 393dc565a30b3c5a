using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;

namespace Tessera.Npu.Simulator;

/// <summary>Runs host steps: reads the step's input tensors from DRAM, computes the function, writes its outputs.
/// The NPU library does not know the IR's ops, so whoever runs a compiled model supplies this (the CLI and the tests
/// use the reference evaluator on the bundle's host.tir).</summary>
public interface IHostRunner
{
    void Run(BundleStep step, Func<string, byte[]> read, Action<string, byte[]> write);
}

/// <summary>A bundle ready to run: one DRAM shared by every step. Each NPU step starts a fresh simulator at its entry
/// point (registers zero, no semaphore tokens) and runs until every queue is idle; host steps run in between. With no
/// steps the bundle's <c>main</c> entry runs once (what <c>tessera asm</c> writes).</summary>
public sealed class BundleSession
{
    private readonly NpuBundle _bundle;
    private readonly Memory _dram;

    /// <param name="timingOnly">Time every NPU step (with bounds and hazard checks) but move no data and compute nothing,
    /// and skip host steps (they take no cycles): the same cycle counts as a full run, without its arithmetic.</param>
    public BundleSession(NpuBundle bundle, bool timingOnly = false)
    {
        _bundle = bundle;
        TimingOnly = timingOnly;
        _dram = new Memory("DRAM", bundle.Target.DramBytes);
        foreach (var (name, bytes) in timingOnly ? [] : bundle.Data)
        {
            Write(name, bytes);
        }
    }

    public bool TimingOnly { get; }

    public TensorDecl Tensor(string name) =>
        _bundle.Program.Tensors.FirstOrDefault(t => t.Name == name) ?? throw NpuCodes.Error(NpuCodes.BundleBad, name, $"no tensor named '{name}'");

    public void Write(string name, ReadOnlySpan<byte> data)
    {
        var t = Tensor(name);
        if (data.Length != t.Bytes)
        {
            throw NpuCodes.Error(NpuCodes.BundleBad, name, $"tensor {name} needs {t.Bytes} bytes, got {data.Length}");
        }

        _dram.Write(t.DramAddress, data, name);
    }

    public byte[] Read(string name)
    {
        var t = Tensor(name);
        return _dram.Read(t.DramAddress, checked((int)t.Bytes), name);
    }

    /// <summary>Runs every step; the result sums the NPU steps (their trace events laid end to end) and counts host steps.</summary>
    public BundleRunResult Run(IHostRunner? host, bool trace = false)
    {
        var steps = _bundle.Steps.Count > 0 ? _bundle.Steps : [new BundleStep("npu", "main", [], [], "program", "main")];
        var p = _bundle.Program;
        long cycles = 0, read = 0, written = 0, macs = 0;
        var busy = new long[4];
        var count = new int[4];
        var events = trace ? new List<TraceEvent>() : null;
        var perStep = new List<(BundleStep Step, long Start, long Cycles)>();
        foreach (var step in steps)
        {
            if (step.Kind == "host")
            {
                if (TimingOnly)
                {
                    perStep.Add((step, cycles, 0));
                    continue;
                }

                if (host is null)
                {
                    throw NpuCodes.Error(NpuCodes.BundleBad, step.Name, $"step {step.Name} runs {step.Op} on the host, and no host runner was given");
                }

                host.Run(step, Read, (n, b) => Write(n, b));
                perStep.Add((step, cycles, 0));
                continue;
            }

            if (!p.Entries.TryGetValue(step.Name, out int pc))
            {
                throw NpuCodes.Error(NpuCodes.BundleBad, step.Name, $"no entry point '{step.Name}'");
            }

            var sim = new Simulator(_bundle.Target, p.Instrs, p.Descriptors, pc, _dram);
            sim.Machine.Functional = !TimingOnly;
            var r = sim.Run(trace);
            foreach (var e in r.Trace ?? [])
            {
                events!.Add(e with { Start = e.Start + cycles });
            }

            for (int q = 0; q < 4; q++)
            {
                busy[q] += r.Busy[q];
                count[q] += r.Instructions[q];
            }

            perStep.Add((step, cycles, r.Cycles));
            cycles += r.Cycles;
            read += r.DramRead;
            written += r.DramWritten;
            macs += r.Macs;
        }

        return new BundleRunResult(new SimResult(cycles, busy, count, read, written, macs, events), perStep);
    }
}

/// <summary>A compiled model's run: the summed simulator result and each step's start and length in cycles.</summary>
public sealed record BundleRunResult(SimResult Total, List<(BundleStep Step, long Start, long Cycles)> Steps);
