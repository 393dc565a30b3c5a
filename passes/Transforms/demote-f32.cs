using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Demotes every f32 tensor in a function to <c>to</c> (f16 or bf16): value types, the signature, dense constants
/// (rounded once, to nearest even), and the element types that attributes name (a Cast's ONNX <c>to</c>, TypeAttrs).
/// The NPU's float path is f16/bf16 on the matrix unit, so a model exported in f32 runs there after this pass; the
/// reference evaluator still computes each op in double and rounds to the tensor's type, so the demoted function can be
/// checked on the host too.
/// </summary>
public sealed class DemoteF32Pass : Pass
{
    private readonly PassOption<string> _to;

    public DemoteF32Pass()
    {
        _to = Option("to", "f16", "the element type f32 becomes: f16 or bf16");
    }

    public override string Flag => "demote-f32";
    public override string Summary => "demotes f32 tensors, constants and cast targets to f16 or bf16";
    public override string? AnchorOp => "func.func";

    public override PassResult Run(Operation op, PassContext context)
    {
        FloatType? to = _to.Value switch { "f16" => FloatType.F16, "bf16" => FloatType.BF16, _ => null };
        if (to is null)
        {
            context.Diagnostics.Add(new Diagnostic(Severity.Error, DiagnosticCodes.PipelineBadOption,
                $"demote-f32: to={_to.Value} is not f16 or bf16", op.Location));
            return PassResult.Failed;
        }

        int changed = 0;
        Type Demote(Type t)
        {
            switch (t)
            {
                case TensorType tt when tt.ElementType == FloatType.F32:
                    changed++;
                    return new TensorType(tt.Shape, to);
                case FunctionType ft:
                    return new FunctionType(ft.Inputs.Select(Demote).ToArray(), ft.Results.Select(Demote).ToArray());
                default:
                    return t;
            }
        }

        Attribute DemoteAttr(Attribute a)
        {
            switch (a)
            {
                case DenseElementsAttr d when d.ShapedType.ElementType == FloatType.F32:
                    changed++;
                    var values = new double[d.IsSplat ? 1 : d.ElementCount];
                    for (long i = 0; i < values.LongLength; i++)
                    {
                        values[i] = d.GetDouble(i);
                    }

                    var st = new TensorType(d.ShapedType.Shape, to);
                    return d.IsSplat ? new DenseElementsAttr(st, new ArrayStorage(ElementCodec.Encode(to, values)), true) : DenseElementsAttr.FromDoubles(st, values);
                case TypeAttr ta when Demote(ta.Value) is var nt && !ReferenceEquals(nt, ta.Value):
                    return new TypeAttr(nt);
                default:
                    return a;
            }
        }

        Retype.Values(op, Demote);
        foreach (var inner in op.Walk())
        {
            foreach (var (name, value) in inner.Attributes.ToList())
            {
                var nv = name == "to" && inner.Name == "graph.cast" && value is IntegerAttr i && i.Value == OnnxTypes.FromIr(FloatType.F32)
                    ? IntegerAttr.I64(OnnxTypes.FromIr(to))
                    : DemoteAttr(value);
                if (!ReferenceEquals(nv, value))
                {
                    inner.SetAttr(name, nv);
                    changed++;
                }
            }
        }

        // A weight's f16 -> f32 cast is f16 -> f16 now. Canonicalize does not fold casts of more than 2^20 elements, so
        // without this a large weight (a 4864x896 FFN matrix) reached npu-partition behind a cast, and its matmul ran on
        // the host (a transposed right operand must be a constant).
        foreach (var cast in op.Walk().Where(o => o.Name == "graph.cast" && o.Operand(0).Type == o.Result(0).Type
                     && o.Operand(0).DefiningOp?.Name == "arith.constant").ToList())
        {
            cast.Result(0).ReplaceAllUsesWith(cast.Operand(0));
            cast.Erase();
            changed++;
        }

        Count("num-demoted", changed);
        return changed > 0 ? PassResult.Changed : PassResult.Unchanged;
    }
}
