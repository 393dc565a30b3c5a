using Tessera.Dialects;
using Tessera.Dialects.Npu;
using Tessera.IR.Passes;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;
using Tessera.Passes;
using Tessera.Passes.Npu;

namespace Tessera.Tests.Npu;

/// <summary>Lowering through the <c>npu-lower</c> pass (so the npu dialect's verifier, SRAM plan included, checks
/// every program a test runs), and the same check for programs a test builds from kernels directly.</summary>
public static class NpuIR
{
    /// <summary>Runs the <c>npu-*-to-tile</c> passes and <c>npu-lower</c> on a copy of <paramref name="module"/> (the original
    /// keeps its graph ops for reference runs) and reads the bundle and layers back from the <c>npu.program</c>.</summary>
    public static NpuLowering Lower(Context ctx, Operation module, string function, string config)
    {
        var copy = module.Clone(ctx, new IRMapping());
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), $"builtin.module(func.func(npu-matmul-to-tile,npu-vector-to-tile{{config=\"{config}\"}},npu-attention-to-tile{{config=\"{config}\"}},npu-move-to-tile{{config=\"{config}\"}}),npu-lower{{config=\"{config}\" function=\"{function}\"}})", diags);
        Assert.True(pm is not null && pm.Run(copy, diags).Succeeded, diags.Render());
        return FromProgram(copy.Regions[0].Operations.Single(o => o.Name == NpuDialect.Program.Name));
    }

    public static NpuLowering FromProgram(Operation program)
    {
        var layers = NpuProgramIR.Layers(program).Select(l => new NpuLayer(l.Step, l.Op, l.Layer, l.ElementType, l.Macs, l.MinDramBytes)).ToList();
        return new NpuLowering(NpuProgramIR.ToBundle(program), layers, [], null);
    }

    /// <summary>Assembles <paramref name="pb"/>'s program after checking it as an <c>npu.program</c> (SRAM plan, ranges).</summary>
    public static AsmProgram Checked(ProgramBuilder pb, string name = "<npu-program>")
    {
        var program = pb.Assemble(name);
        var ctx = Contexts.CreateDefault();
        // One step per entry point (the assembler's implicit main when it is an alias of another entry is not one).
        var entries = program.Entries.Where(e => e.Key != "main" || !program.Entries.Any(o => o.Key != "main" && o.Value == e.Value)).OrderBy(e => e.Value);
        var bundle = new NpuBundle { Program = program, Target = pb.Target, Steps = [.. entries.Select(e => new BundleStep("npu", e.Key, [], [], "", ""))] };
        bool builtin = pb.Target.Name is "e1" or "edge-large" && Tessera.Npu.Target.TargetLoader.LoadNamed(pb.Target.Name) == pb.Target;
        var op = NpuProgramIR.Build(ctx, "kernels", bundle, pb.Buffers, _ => null, null, builtin);
        var diags = new DiagnosticBag();
        Assert.True(Verifier.Verify(op, diags), diags.Render());
        return program;
    }
}
