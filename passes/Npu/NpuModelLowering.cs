using Tessera.Dialects;
using Tessera.Npu;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;
using Tessera.Npu.Target;

namespace Tessera.Passes.Npu;

/// <summary>A lowered NPU step as the reports see it: the source op's name and location, MACs, least DRAM traffic.</summary>
public sealed record NpuLayer(string Step, string Op, string Name, string ElementType, long Macs, long MinDramBytes);

/// <summary>What <see cref="NpuModelLowering.Emit"/> produced: the bundle (without host.tir), the NPU layers in step order,
/// the SRAM buffers the kernels allocated, the host functions (a <c>builtin.module</c>, or null when there are none), and each
/// activation's live range as indices into the bundle's steps (activations whose ranges do not meet share DRAM).</summary>
public sealed record NpuLowering(NpuBundle Bundle, IReadOnlyList<NpuLayer> Layers, IReadOnlyList<SramBuffer> Buffers, Operation? HostFunctions,
    IReadOnlyDictionary<string, (int First, int Last)>? Live = null)
{
    public IEnumerable<BundleStep> HostSteps => Bundle.Steps.Where(s => s.Kind == "host");
}

/// <summary>
/// Lowers one function, already through <c>npu-partition</c> and <c>npu-tile</c>, to a bundle: the DRAM plan
/// (<see cref="DramPlan"/>), one NPU kernel per op placed on the NPU (its own entry point), one host function per op
/// placed on the host (in host.tir), and the steps that run them in program order.
/// </summary>
public static class NpuModelLowering
{
    /// <summary>Constants up to this many elements are copied into a host function rather than placed in DRAM.</summary>
    public const long InlineConstantElements = 256;

    public static NpuLowering Emit(Context ctx, Operation func, NpuTarget target)
    {
        var body = func.Regions.Count == 1 ? func.Regions[0].EntryBlock : null;
        if (body is null || func.Regions[0].Blocks.Count != 1)
        {
            throw Unsupported(func, "the function must have a single-block body");
        }

        var ops = body.Operations.ToList();
        var ret = ops[^1];
        var plan = new DramPlan();

        TensorDecl Buf(Value v)
        {
            if (plan.Has(v))
            {
                return plan.Of(v);
            }

            if (v.DefiningOp is { Name: "arith.constant" } c && c.GetAttr("value") is DenseElementsAttr d)
            {
                return plan.Place(v, "weight", "w", Bytes(d));
            }

            return plan.Place(v, "activation", "t");
        }

        for (int i = 0; i < body.Arguments.Count; i++)
        {
            plan.Place(body.Arguments[i], "input", $"arg{i}");
        }

        // Outputs: the value that really produces each result (through aliases) writes straight into its buffer. One no step
        // computes (an argument, a constant, one returned twice) needs the copy npu-move-to-tile makes.
        for (int i = 0; i < ret.NumOperands; i++)
        {
            var r = ret.Operand(i);
            var root = r;
            while (root.DefiningOp is { } def && Place(def) == NpuPlacement.Alias)
            {
                root = def.Operand(0);
            }

            bool computed = root.DefiningOp is { } p && p.Name != "arith.constant" && !plan.Has(root);
            var decl = plan.Place(r, "output", $"out{i}");
            if (!computed)
            {
                throw Unsupported(func, $"result {i} is an argument, a constant or another result, which needs a copy: run npu-move-to-tile first");
            }

            plan.Assign(root, decl);
        }

        // Plan every buffer first, so the constant pool can go after them all.
        var work = new List<(Operation Op, string Place)>();
        foreach (var op in ops)
        {
            if (op.Name is "arith.constant" or "graph.none" or "func.return")
            {
                continue;
            }

            var place = Place(op) ?? throw Unsupported(op, "the op has no npu.place: run npu-partition first");
            if (place == NpuPlacement.Alias)
            {
                plan.Assign(op.Result(0), Buf(op.Operand(0)));
                continue;
            }

            foreach (var r in op.Results)
            {
                Buf(r);
            }

            foreach (var v in place == NpuPlacement.Npu ? DataOperands(op) : op.Operands.Select(v => v!))
            {
                if (place == NpuPlacement.Host && InlineOnHost(v))
                {
                    continue;
                }

                Buf(v);
            }

            work.Add((op, place));
        }

        // DRAM reuse: an activation lives from the first step that touches it to the last; ones that never meet share bytes.
        var live = new Dictionary<TensorDecl, (int First, int Last)>(ReferenceEqualityComparer.Instance);
        void Touch(TensorDecl d, int step) =>
            live[d] = live.TryGetValue(d, out var r) ? (Math.Min(r.First, step), Math.Max(r.Last, step)) : (step, step);
        for (int i = 0; i < work.Count; i++)
        {
            foreach (var v in work[i].Op.Operands.Concat(work[i].Op.Results).Where(v => v is not null && plan.Has(v)))
            {
                Touch(plan.Of(v!), i);
            }
        }

        plan.PlaceActivations(live);

        var pb = new ProgramBuilder(target) { ConstantBase = TileCostModel.Align(plan.End) };
        var steps = new List<BundleStep>();
        var layers = new List<NpuLayer>();
        var host = HostModule.Create(ctx);
        var firstStep = new int[work.Count + 1];
        int opIndex = 0;
        foreach (var (op, place) in work)
        {
            firstStep[opIndex++] = steps.Count;
            // A tile.dispatch reports the op it stands for.
            string source = (op.GetAttr("op") as StringAttr)?.Value is { } o && op.Name == "tile.dispatch" ? o : op.Name;
            string layer = op.Location is UnknownLoc ? $"{source}#{steps.Count}" : LayerName(op.Location);
            if (place == NpuPlacement.Host)
            {
                var name = $"h{steps.Count}";
                var (inputs, outputs) = host.Add(name, op, InlineOnHost, v => Buf(v).Name);
                steps.Add(new BundleStep("host", name, inputs, outputs, op.Name, layer, (op.GetAttr(NpuPlacement.ReasonAttr) as StringAttr)?.Value));
                continue;
            }

            var entry = $"k{steps.Count}";
            var ins = DataOperands(op).Where(v => v.DefiningOp?.Name != "graph.none").Select(Buf).ToList();
            var outs = op.Results.Select(Buf).ToList();
            string[] inNames = [.. ins.Select(t => t.Name).Distinct()], outNames = [.. outs.Select(t => t.Name)];
            pb.Entry(entry);
            pb.Comment($"{source} at {layer}");
            long macs = EmitKernel(pb, op, ins, outs);
            pb.Line("end");
            steps.Add(new BundleStep("npu", entry, inNames, outNames, source, layer));
            layers.Add(new NpuLayer(entry, source, layer, outs[0].Type, macs, MinDramBytes(source, ins, outs)));
        }

        firstStep[work.Count] = steps.Count;
        foreach (var t in plan.Tensors)
        {
            pb.Tensor(t);
        }

        var data = new Dictionary<string, byte[]>(plan.Data, StringComparer.Ordinal);
        var pool = pb.ConstantPool;
        long end = plan.End;
        if (pool.Length > 0)
        {
            var decl = new TensorDecl("npu.constants", "weight", pb.ConstantBase, [pool.Length / 4], "f32");
            pb.Tensor(decl);
            data[decl.Name] = pool;
            end = pb.ConstantBase + pool.Length;
        }

        if (end > target.DramBytes)
        {
            throw Unsupported(func, $"the model needs {end} bytes of DRAM; target {target.Name} has {target.DramBytes}");
        }

        var program = pb.Assemble($"<npu:{SymbolTable.GetName(func)}>");
        // The host functions stay IR (HostFunctions): npu-lower nests them in the npu.program, whose bundle prints them.
        var bundle = new NpuBundle { Program = program, Target = target, Data = data, Steps = steps };
        var liveSteps = plan.Live.ToDictionary(kv => kv.Key, kv => (firstStep[kv.Value.First], firstStep[kv.Value.Last + 1] - 1), StringComparer.Ordinal);
        return new NpuLowering(bundle, layers, pb.Buffers, steps.Any(s => s.Kind == "host") ? host.Module : null, liveSteps);
    }

    private static long EmitKernel(ProgramBuilder pb, Operation op, List<TensorDecl> ins, List<TensorDecl> outs)
    {
        switch (op.Name)
        {
            case "tile.dispatch":
                long macs = TileLowering.Emit(pb, op, [.. ins, .. outs]);
                // The op's own work where the tiles compute more or less: attention's visible pairs; a GEMV's vector blocks
                // multiply too, so its MACs are all K·N, not only the matrix blocks' mma products.
                return op.GetAttr("npu.macs") is IntegerAttr work ? work.Value : NpuMatmulLowering.IsGemv(op) ? ins[0].Elements * outs[0].Elements : macs;
            case "graph.mat_mul" or "graph.gemm":
                throw Unsupported(op, "an NPU matmul is lowered through tile.dispatch: run npu-tile and npu-matmul-to-tile first");
            case "graph.transpose" or "graph.slice" or "graph.concat" or "graph.split" or "graph.pad" or "graph.gather":
                throw Unsupported(op, $"an NPU {op.Name} is lowered through tile.dispatch: run npu-move-to-tile first");
            case var _ when NpuReductions.Handles(op):
                throw Unsupported(op, "an NPU reduction is lowered through tile.dispatch: run npu-vector-to-tile first");
            case "graph.sdpa":
                throw Unsupported(op, "NPU attention is lowered through tile.dispatch: run npu-attention-to-tile first");
            default:
                throw Unsupported(op, $"an NPU {op.Name} is lowered through tile.dispatch: run npu-vector-to-tile first");
        }
    }

    /// <summary>The least DRAM traffic of an op: its inputs read once and its outputs written once, except a gather,
    /// which reads only the rows it picks (as many bytes as it writes), not its whole table.</summary>
    private static long MinDramBytes(string op, List<TensorDecl> ins, List<TensorDecl> outs) =>
        op == "graph.gather" ? ins[1].Bytes + (2 * outs[0].Bytes) : ins.DistinctBy(t => t.Name).Sum(t => t.Bytes) + outs.Sum(t => t.Bytes);

    /// <summary>The operands an NPU op's kernel reads from DRAM: not the compile-time ones (pads, slice bounds, split sizes,
    /// reduction axes, a constant mask the causal attention kernel applies by itself), which need no DRAM.</summary>
    private static IEnumerable<Value> DataOperands(Operation op)
    {
        int n = op.Name switch
        {
            "graph.pad" or "graph.slice" or "graph.split" => 1,
            _ when NpuReductions.Handles(op) => 1,
            _ => op.NumOperands,
        };
        return op.Operands.Take(n).Select(v => v!);
    }

    private static string? Place(Operation op) => (op.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value;

    private static bool InlineOnHost(Value v) =>
        v.DefiningOp is { Name: "graph.none" } || (v.DefiningOp is { Name: "arith.constant" } c && c.GetAttr("value") is DenseElementsAttr d && d.ElementCount <= InlineConstantElements);

    /// <summary>The bytes of a dense constant as the bundle stores them (splats expanded).</summary>
    private static byte[] Bytes(DenseElementsAttr d)
    {
        long n = d.ElementCount;
        var raw = d.Storage.Span;
        int e = NpuPlacement.ElementBytes(d.ShapedType);
        if (e == 0)
        {
            throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported, $"a {d.ShapedType} constant cannot live in NPU DRAM", Location.Unknown));
        }

        if (!d.IsSplat)
        {
            return raw.ToArray();
        }

        var bytes = new byte[n * e];
        for (long i = 0; i < n; i++)
        {
            raw[..e].CopyTo(bytes.AsSpan((int)(i * e)));
        }

        return bytes;
    }

    /// <summary>A layer's name for reports: the op's location, a file location shortened to FILE-NAME:LINE:COL.</summary>
    public static string LayerName(Location loc) => loc switch
    {
        FileLineColLoc f => $"{Path.GetFileName(f.File)}:{f.Line.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{f.Column.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        NameLoc n => n.Name,
        _ => loc.Text,
    };

    private static DiagnosticException Unsupported(Operation at, string why) =>
        new(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported, $"NPU lowering: {why}", at.Location));
}
