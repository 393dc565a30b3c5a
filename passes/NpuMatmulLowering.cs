using Tessera.Dialects.Graph;
using Tessera.Npu;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;

namespace Tessera.Passes;

/// <summary>
/// The first slice of NPU lowering: a function whose body is one 2-D <c>graph.mat_mul</c> of f16 or bf16 (operands are
/// function arguments or <c>arith.constant</c> weights) becomes a bundle. <see cref="Match"/> checks the shape of the
/// function (anything else is TSR0841); <c>npu-tile</c> annotates the matmul with the cost model's tiles; <see cref="Emit"/>
/// lays out DRAM (inputs, then weights, then the output, each 64-byte aligned) and emits the kernel.
/// </summary>
public static class NpuMatmulLowering
{
    public const string TargetAttr = "npu.target";
    public const string TileMAttr = "npu.tile_m";
    public const string TileNAttr = "npu.tile_n";
    public const string TileKAttr = "npu.tile_k";
    public const string EstimateAttr = "npu.est_cycles";
    public const string StationaryAttr = "npu.stationary";

    /// <summary>The function's single matmul, or a TSR0841 error naming the first thing the slice cannot lower.</summary>
    public static Operation Match(Operation func)
    {
        DiagnosticException Unsupported(Operation at, string why) => new(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
            $"NPU lowering supports only single-matmul functions so far (one 2-D f16/bf16 graph.mat_mul): {why}", at.Location));

        var body = func.Regions.Count == 1 ? func.Regions[0].EntryBlock : null;
        if (body is null || func.Regions[0].Blocks.Count != 1)
        {
            throw Unsupported(func, "the function has no single-block body");
        }

        Operation? mm = null;
        foreach (var op in body.Operations)
        {
            switch (op.Name)
            {
                case "graph.mat_mul" when mm is null: mm = op; break;
                case "graph.mat_mul": throw Unsupported(op, "the function has more than one graph.mat_mul");
                case "arith.constant" or "func.return": break;
                default: throw Unsupported(op, $"'{op.Name}' cannot be lowered to the NPU yet");
            }
        }

        if (mm is null)
        {
            throw Unsupported(func, "the function has no graph.mat_mul");
        }

        var ret = body.Operations.Last();
        if (ret.Name != "func.return" || ret.NumOperands != 1 || !ReferenceEquals(ret.Operand(0), mm.Result(0)))
        {
            throw Unsupported(ret, "the function must return exactly the matmul's result");
        }

        foreach (var v in mm.Operands.Append(mm.Result(0)))
        {
            if (v!.Type is not TensorType { Shape: { Count: 2 } s, ElementType: var et } || s.Any(d => d.Size <= 0 || d.Symbol is not null)
                || et != FloatType.F16 && et != FloatType.BF16)
            {
                throw Unsupported(mm, $"operand type {v.Type} is not a static 2-D f16 or bf16 tensor");
            }

            if (v.DefiningOp is { } def && def.Name == "arith.constant" && def.GetAttr("value") is not DenseElementsAttr)
            {
                throw Unsupported(def, "a weight constant must be dense elements");
            }
        }

        if (((TensorType)mm.Operand(0).Type).ElementType != ((TensorType)mm.Operand(1).Type).ElementType
            || ((TensorType)mm.Operand(0).Type).ElementType != ((TensorType)mm.Result(0).Type).ElementType)
        {
            throw Unsupported(mm, "operands and result must have one element type");
        }

        return mm;
    }

    public static (int M, int N, int K, string Type) Problem(Operation mm)
    {
        var a = (TensorType)mm.Operand(0).Type;
        var b = (TensorType)mm.Operand(1).Type;
        if (a.Shape![1].Size != b.Shape![0].Size)
        {
            throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
                $"graph.mat_mul: inner dims {a.Shape[1].Size} and {b.Shape[0].Size} differ", mm.Location));
        }

        return ((int)a.Shape[0].Size, (int)b.Shape[1].Size, (int)a.Shape[1].Size, a.ElementType == FloatType.F16 ? "f16" : "bf16");
    }

    /// <summary>The tiles <c>npu-tile</c> recorded on <paramref name="mm"/> (null if it has not run).</summary>
    public static MatmulTiles? Tiles(Operation mm) =>
        mm.GetAttr(TileMAttr) is IntegerAttr m && mm.GetAttr(TileNAttr) is IntegerAttr n && mm.GetAttr(TileKAttr) is IntegerAttr k
            ? new MatmulTiles((int)m.Value, (int)n.Value, (int)k.Value, (mm.GetAttr(EstimateAttr) as IntegerAttr)?.Value ?? 0,
                (mm.GetAttr(StationaryAttr) as StringAttr)?.Value == "a")
            : null;

    /// <summary>Builds the bundle for the one public function of <paramref name="module"/> that <c>npu-tile</c> annotated
    /// for <paramref name="target"/>.</summary>
    public static NpuBundle Emit(Operation module, NpuTarget target)
    {
        var funcs = module.Walk().Where(o => o.Name == "func.func" && o.Regions.Count == 1 && o.Regions[0].Blocks.Count > 0).ToList();
        if (funcs.Count != 1)
        {
            throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
                $"NPU lowering supports only single-matmul functions so far: the module has {funcs.Count} functions with bodies, not 1", module.Location));
        }

        var mm = Match(funcs[0]);
        var tiles = Tiles(mm) ?? throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
            "graph.mat_mul has no npu.tile_* attributes: run npu-tile first", mm.Location));
        if ((mm.GetAttr(TargetAttr) as StringAttr)?.Value != target.Name)
        {
            throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
                $"graph.mat_mul was tiled for target '{(mm.GetAttr(TargetAttr) as StringAttr)?.Value}', not '{target.Name}'", mm.Location));
        }

        var (m, n, k, type) = Problem(mm);
        var args = funcs[0].Regions[0].EntryBlock!.Arguments;
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long next = 0;
        TensorDecl Place(string name, string role, long[] shape)
        {
            var t = new TensorDecl(name, role, next, shape, type);
            next = TileCostModel.Align(next + t.Bytes);
            return t;
        }

        // Inputs first (in argument order, as tessera sim --input binds them), then weights, then the output.
        var decls = new Dictionary<int, TensorDecl>();
        for (int i = 0; i < 2; i++)
        {
            if (mm.Operand(i) is BlockArgument arg && ReferenceEquals(arg.Owner, funcs[0].Regions[0].EntryBlock))
            {
                decls[i] = Place($"arg{arg.Index}", "input", ShapeOf(arg));
            }
        }

        for (int i = 0; i < 2; i++)
        {
            if (!decls.ContainsKey(i))
            {
                var v = mm.Operand(i);
                if (v.DefiningOp?.GetAttr("value") is not DenseElementsAttr dense)
                {
                    throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
                        "graph.mat_mul operand is neither a function argument nor a dense constant", mm.Location));
                }

                decls[i] = Place($"w{i}", "weight", ShapeOf(v));
                data[decls[i].Name] = Bits(Tessera.Dialects.Graph.Convert.FromAttr(dense), type);
            }
        }

        var c = Place("out0", "output", [m, n]);
        if (next > target.DramBytes)
        {
            throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
                $"the matmul's tensors need {next} bytes of DRAM; target {target.Name} has {target.DramBytes}", mm.Location));
        }

        var program = MatmulKernel.Emit(target, tiles, decls[0], decls[1], c, type);
        return new NpuBundle { Program = program, Target = target, Data = data };
    }

    private static long[] ShapeOf(Value v) => ((TensorType)v.Type).Shape!.Select(d => d.Size).ToArray();

    /// <summary>Little-endian f16 or bf16 bits of an array (its values are already of that type, so the rounding is exact).</summary>
    public static byte[] Bits(NDArray x, string type)
    {
        var d = x.AsDoubles();
        var bytes = new byte[d.Length * 2];
        for (int i = 0; i < d.Length; i++)
        {
            ushort h = type == "f16" ? Numerics.F32ToF16((float)d[i]) : Numerics.F32ToBf16((float)d[i]);
            bytes[2 * i] = (byte)h;
            bytes[(2 * i) + 1] = (byte)(h >> 8);
        }

        return bytes;
    }
}
