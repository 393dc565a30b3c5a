using Tessera.Dialects;
using Tessera.Npu.Bundle;
using Tessera.Npu.Simulator;
using GraphConvert = Tessera.Dialects.Graph.Convert;
using GraphEvaluator = Tessera.Dialects.Graph.GraphEvaluator;

namespace Tessera.Passes.Npu;

/// <summary>
/// The host side of a compiled model: one function per host step, each holding one op whose DRAM operands are its
/// arguments (small constants are copied in), written to the bundle as host.tir.
/// </summary>
public sealed class HostModule
{
    private readonly Context _ctx;
    private readonly Operation _module;

    private HostModule(Context ctx, Operation module)
    {
        _ctx = ctx;
        _module = module;
    }

    public static HostModule Create(Context ctx)
    {
        var module = Operation.Create(ctx, new OperationState("builtin.module", new NameLoc("host")) { NumRegions = 1 });
        module.Regions[0].AddBlock();
        return new HostModule(ctx, module);
    }

    /// <summary>Adds <c>func.func @name</c> computing <paramref name="op"/>; returns the DRAM tensor names it reads and writes.</summary>
    public (string[] Inputs, string[] Outputs) Add(string name, Operation op, Func<Value, bool> inline, Func<Value, string> tensor)
    {
        var b = new OpBuilder(_ctx);
        b.SetInsertionPointToEnd(_module.Regions[0].EntryBlock!);
        var func = b.Create(FuncDialect.Func, op.Location, [], [],
            [new(SymbolTable.SymNameAttr, new StringAttr(name)), new(FuncDialect.FunctionTypeAttr, new TypeAttr(new FunctionType([], [])))], regions: 1);
        var fb = func.Regions[0].AddBlock();
        var map = new IRMapping();
        var inputs = new List<string>();
        var argTypes = new List<Type>();
        foreach (var v in op.Operands.Select(x => x!))
        {
            if (map.Contains(v))
            {
                continue;
            }

            if (inline(v))
            {
                var c = v.DefiningOp!.Clone(_ctx, map);
                fb.Append(c);
                map.Map(v, c.Result(0));
            }
            else
            {
                map.Map(v, fb.AddArgument(v.Type, v.Location));
                inputs.Add(tensor(v));
                argTypes.Add(v.Type);
            }
        }

        var clone = op.Clone(_ctx, map);
        clone.RemoveAttr(NpuPlacement.PlaceAttr);
        clone.RemoveAttr(NpuPlacement.ReasonAttr);
        fb.Append(clone);
        b.SetInsertionPointToEnd(fb);
        b.Create(FuncDialect.Return, op.Location, clone.Results, []);
        func.SetAttr(FuncDialect.FunctionTypeAttr, new TypeAttr(new FunctionType(argTypes, clone.Results.Select(r => r.Type).ToList())));
        return ([.. inputs], [.. op.Results.Select(tensor)]);
    }

    /// <summary>The <c>builtin.module</c> holding the host functions.</summary>
    public Operation Module => _module;
}

/// <summary>Runs a bundle's host steps with the reference evaluator on its host.tir (parsed once).</summary>
public sealed class HostRunner : IHostRunner
{
    private readonly Dictionary<string, Operation> _funcs = new(StringComparer.Ordinal);

    public HostRunner(Context ctx, string hostModuleText)
    {
        var module = Parser.ParseModule(ctx, hostModuleText, "host.tir");
        foreach (var f in module.Regions[0].Operations.Where(o => o.Name == "func.func"))
        {
            _funcs[SymbolTable.GetName(f)!] = f;
        }
    }

    public void Run(BundleStep step, Func<string, byte[]> read, Action<string, byte[]> write)
    {
        if (!_funcs.TryGetValue(step.Name, out var f))
        {
            throw new DiagnosticException(new Diagnostic(Severity.Error, Tessera.Npu.NpuCodes.BundleBad, $"host.tir has no function @{step.Name}", Location.Unknown));
        }

        var args = f.Regions[0].EntryBlock!.Arguments;
        var inputs = args.Select((a, i) => GraphConvert.FromAttr(new DenseElementsAttr((TensorType)a.Type, new ArrayStorage(read(step.Inputs[i]))))).ToList();
        var results = GraphEvaluator.Run(f, inputs);
        for (int i = 0; i < results.Count; i++)
        {
            write(step.Outputs[i], GraphConvert.ToAttr(results[i]).Storage.Span.ToArray());
        }
    }
}
