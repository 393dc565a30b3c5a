using Tessera.Dialects.Npu;
using Tessera.Npu.Target;
using Tessera.Passes.Npu;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Lowers the entry function, already through <c>npu-partition</c> and <c>npu-tile</c>, to the <c>npu</c> dialect: the
/// <c>func.func</c> is replaced by an <c>npu.program</c> of the same name holding its DRAM memory map (weights with their
/// bytes), DMA descriptors, one <c>npu.kernel</c> per NPU step (its SRAM buffers and one op per instruction) and one
/// <c>npu.host_step</c> per host op, with the host functions in a nested module. <c>function</c> picks the entry: that
/// name; for <c>main</c> (the default) main, else prefill, else the first function with a body.
/// </summary>
public sealed class NpuLowerPass : Pass
{
    private readonly PassOption<string> _config;
    private readonly PassOption<string> _function;

    public NpuLowerPass()
    {
        _config = Option("config", "e1", "NPU target description: a shipped config name or a .json path");
        _function = Option("function", "main", "the function to lower (main falls back to prefill, then the first)");
    }

    public override string Flag => "npu-lower";
    public override string Summary => "lowers the entry function to the npu dialect: memory map, descriptors, kernels of instructions, host steps";
    public override string? AnchorOp => "builtin.module";

    public override PassResult Run(Operation op, PassContext context)
    {
        var func = EntryFunction(op, _function.Value);
        if (func is null)
        {
            context.Diagnostics.Add(new Diagnostic(Severity.Error, Tessera.Npu.NpuCodes.LowerUnsupported, $"npu-lower: the module has no function named {_function.Value}", op.Location));
            return PassResult.Failed;
        }

        try
        {
            var target = TargetLoader.LoadNamed(_config.Value);
            var lowered = NpuModelLowering.Emit(context.Context, func, target);
            var costs = lowered.Layers.ToDictionary(l => l.Step, l => new KernelCost(l.Macs, l.MinDramBytes, l.ElementType), StringComparer.Ordinal);
            bool builtin = !TargetLoader.IsPath(_config.Value);
            var program = NpuProgramIR.Build(context.Context, SymbolTable.GetName(func)!, lowered.Bundle, lowered.Buffers,
                s => costs.GetValueOrDefault(s), lowered.HostFunctions, builtin, lowered.Live);
            program.Location = func.Location;
            func.ParentBlock!.InsertBefore(func, program);
            func.Erase();
            Count("num-instructions", lowered.Bundle.Program.Instrs.Count);
            Count("num-host-steps", lowered.HostSteps.Count());
            return PassResult.Changed;
        }
        catch (DiagnosticException e)
        {
            context.Diagnostics.Add(e.Diagnostic);
            return PassResult.Failed;
        }
    }

    /// <summary>The function named <paramref name="name"/>; for main, main else prefill else the first with a body.</summary>
    public static Operation? EntryFunction(Operation module, string name)
    {
        var funcs = module.Regions[0].Operations.Where(o => o.Name == "func.func" && o.Regions[0].Blocks.Count > 0).ToList();
        var f = funcs.FirstOrDefault(f => SymbolTable.GetName(f) == name);
        return f ?? (name == "main" ? funcs.FirstOrDefault(f => SymbolTable.GetName(f) == "prefill") ?? funcs.FirstOrDefault() : null);
    }
}
