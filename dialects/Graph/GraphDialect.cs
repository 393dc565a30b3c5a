using Tessera.Dialects.Graph;

namespace Tessera.Dialects;

/// <summary>
/// The graph dialect: value-semantics tensor ops, one per ONNX op (plus the raised transformer ops), generated from
/// the op table in <see cref="GraphOps"/>. Every op folds through its reference kernel when its inputs are constant.
/// </summary>
public sealed class GraphDialect : Dialect
{
    /// <summary>The opset version of the op's domain, set by the importer; kernels read it for per-opset behaviour.</summary>
    public const string OpsetAttr = "onnx_opset";

    /// <summary>Constant folding gives up above this many elements in any input, to keep compile time bounded.</summary>
    public const long MaxFoldElements = 1 << 20;

    /// <summary>The largest float constant a widening <c>graph.cast</c> folds (see <see cref="FoldThroughKernel"/>).</summary>
    public const long MaxWideningCastFoldElements = 1 << 16;

    public override string Name => "graph";

    /// <summary>The absent value standing in for an omitted optional ONNX input.</summary>
    public static readonly OpDef None = OpDef.Define("graph.none", "an absent optional input")
        .Result("result", new TypeConstraint("none", t => t is NoneType))
        .With(OpTraits.Pure);

    private static readonly Lazy<IReadOnlyDictionary<string, (GraphOpInfo Info, OpDef Def)>> Table = new(Build);

    public static IReadOnlyDictionary<string, (GraphOpInfo Info, OpDef Def)> ByIrName => Table.Value;

    public override IEnumerable<OpDef> Ops => Table.Value.Values.Select(v => v.Def).Prepend(None);

    public static GraphOpInfo? Info(string irName) => Table.Value.TryGetValue(irName, out var e) ? e.Info : null;

    public override Operation? MaterializeConstant(OpBuilder builder, Attribute value, Type type, Location location) =>
        value is DenseElementsAttr d && d.Type == type ? builder.Create(ArithDialect.Constant, location, [], [type], [new("value", value)]) : null;

    private static IReadOnlyDictionary<string, (GraphOpInfo, OpDef)> Build()
    {
        var result = new SortedDictionary<string, (GraphOpInfo, OpDef)>(StringComparer.Ordinal);
        foreach (var info in GraphOps.All)
        {
            if (result.ContainsKey(info.IrName))
            {
                throw new InvalidOperationException($"graph op {info.IrName} is in the op table twice");
            }

            var def = OpDef.Define(info.IrName, info.Summary)
                .VariadicOperand("inputs", new TypeConstraint("tensor or none", t => t is TensorType or NoneType))
                .VariadicResult("outputs", TC.AnyTensor)
                .With(info.Pure ? OpTraits.Pure : OpTraits.None)
                .Fold((op, consts) => FoldThroughKernel(op, info, consts));
            result[info.IrName] = (info, def);
        }

        return result;
    }

    private static IReadOnlyList<FoldResult>? FoldThroughKernel(Operation op, GraphOpInfo info, IReadOnlyList<Attribute?> consts)
    {
        if (!info.Pure || op.Results.Any(r => r.Type is not TensorType { HasStaticShape: true }))
        {
            return null;
        }

        // shape and size depend on the input's type alone: with static dims they fold whatever the input's values.
        if (op.Name is "graph.shape" or "graph.size" && op.Operand(0).Type is TensorType { HasStaticShape: true } st)
        {
            long[] dims = [.. st.Shape!.Select(d => d.Size)];
            var value = op.Name == "graph.size"
                ? NDArray.Create(IntegerType.I64, [], [dims.Aggregate(1L, (a, b) => a * b)])
                : ShapeOps.ShapeOf(dims, (op.GetAttr("start") as IntegerAttr)?.Value ?? 0, (op.GetAttr("end") as IntegerAttr)?.Value);
            var attr = Graph.Convert.ToAttr(value);
            return attr.Type == op.Result(0).Type ? [attr] : null;
        }

        // A cast that widens a weight (f16 -> f32 as GGUF graphs load every weight) stays an op: folding would double the
        // constant's bytes, and a pass that narrows the graph (demote-f32) would only narrow it back.
        if (op.Name == "graph.cast" && consts[0] is DenseElementsAttr src && src.ElementCount > MaxWideningCastFoldElements
            && op.Result(0).Type is ShapedType { ElementType: FloatType wide } && src.ShapedType.ElementType is FloatType narrow && wide.Width > narrow.Width)
        {
            return null;
        }

        var inputs = new List<NDArray?>();
        for (int i = 0; i < consts.Count; i++)
        {
            if (op.Operand(i).Type is NoneType)
            {
                inputs.Add(null);
            }
            else if (op.Operand(i).Type is ShapedType { ElementType: BlockQuantType })
            {
                // Block-quantized weights stay quantized in the IR: folding would replace them by a float copy.
                return null;
            }
            else if (consts[i] is DenseElementsAttr d && d.ElementCount <= MaxFoldElements)
            {
                inputs.Add(Graph.Convert.FromAttr(d));
            }
            else
            {
                return null;
            }
        }

        try
        {
            var outs = info.Kernel(new KernelContext(op, inputs, (int)(op.GetAttr<IntegerAttr>(OpsetAttr)?.Value ?? 0)));
            if (outs.Count != op.NumResults)
            {
                return null;
            }

            var results = new List<FoldResult>();
            for (int i = 0; i < outs.Count; i++)
            {
                var attr = Graph.Convert.ToAttr(outs[i]);
                if (attr.Type != op.Result(i).Type)
                {
                    return null;
                }

                results.Add(attr);
            }

            return results;
        }
        catch (EvalException)
        {
            // A kernel error at compile time stays for the evaluator to report at run time.
            return null;
        }
    }
}
