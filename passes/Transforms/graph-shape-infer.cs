using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Refines the result types of graph ops from the shape functions in <see cref="GraphShapes"/>, walking a function in
/// order so each op sees its inputs' refined types. A dim only becomes more precise (<c>?</c> → <c>{sym}</c> →
/// static); a static dim in the IR that the inference contradicts is kept, with a warning. Small integer values
/// computed at compile time (constants, <c>graph.shape</c> of a static shape, ops folded through their kernels) feed
/// shape inputs such as Reshape's. Finally unranked function results take their returned values' refined types.
/// </summary>
public sealed class GraphShapeInferPass : Pass
{
    /// <summary>The warning for an inferred shape that contradicts a static dim in the IR.</summary>
    public const string ShapeConflict = "TSR0610";

    /// <summary>Values with more elements are not tracked as compile-time values.</summary>
    public const long MaxValueElements = 4096;

    public override string Flag => "graph-shape-infer";
    public override string Summary => "infers graph op result shapes, propagating symbolic dims";
    public override string? AnchorOp => "func.func";

    public override PassResult Run(Operation op, PassContext context)
    {
        if (op.Regions.Count != 1 || op.Regions[0].Blocks.Count == 0)
        {
            return PassResult.Unchanged;
        }

        var ft = FuncDialect.TypeOf(op);
        bool mayRetype = ft is not null && ft.Results.Any(t => t is TensorType { IsRanked: false }) && !HasCallers(op);
        var known = new Dictionary<Value, NDArray?>(ReferenceEqualityComparer.Instance);
        int refined = 0;
        foreach (var inner in op.Walk().Skip(1).ToList())
        {
            if (!inner.Name.StartsWith("graph.", StringComparison.Ordinal) || GraphShapes.For(inner.Name) is not { } fn)
            {
                continue;
            }

            var shapes = Infer(inner, fn, known);
            for (int i = 0; i < inner.NumResults && shapes is not null && i < shapes.Count; i++)
            {
                if (shapes[i] is { } s && Refine(inner, i, s, op, ft, mayRetype, context))
                {
                    refined++;
                }
            }

            Propagate(inner, known);
        }

        bool signatureChanged = mayRetype && UpdateSignature(op, ft!);
        Count("num-refined", refined);
        return refined > 0 || signatureChanged ? PassResult.Changed : PassResult.Unchanged;
    }

    private static IReadOnlyList<Dim[]?>? Infer(Operation op, ShapeFn fn, Dictionary<Value, NDArray?> known)
    {
        var shapes = op.Operands.Select(v => v?.Type is TensorType { Shape: { } s } ? s.ToArray() : null).ToList();
        var present = op.Operands.Select(v => v is not null && v.Type is not NoneType).ToList();
        var ctx = new ShapeContext(op, shapes, present, i => ValueOf(op.Operand(i), known));
        try
        {
            return fn(ctx);
        }
        catch (Exception e) when (e is EvalException or OverflowException or IndexOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A value known at compile time: a small dense constant or a value this pass computed.</summary>
    private static NDArray? ValueOf(Value v, Dictionary<Value, NDArray?> known)
    {
        if (known.TryGetValue(v, out var a))
        {
            return a;
        }

        return v.DefiningOp is { Name: "arith.constant" } c && c.GetAttr("value") is DenseElementsAttr d && d.ElementCount <= MaxValueElements
            ? Dialects.Graph.Convert.FromAttr(d)
            : null;
    }

    /// <summary>Records the compile-time value of a Shape of a static shape, or of a small op whose inputs are all known.</summary>
    private static void Propagate(Operation op, Dictionary<Value, NDArray?> known)
    {
        if (op.NumResults == 0 || op.Results.Any(r => r.Type is not TensorType { HasStaticShape: true } t || t.ElementCount > MaxValueElements))
        {
            return;
        }

        if (op.Name == "graph.shape")
        {
            if (op.NumOperands == 1 && op.Operand(0).Type is TensorType { HasStaticShape: true } x && op.Result(0).Type is TensorType rt)
            {
                var dims = x.Shape!.Select(d => d.Size).ToArray();
                long start = op.GetAttr<IntegerAttr>("start")?.Value ?? 0, end = op.GetAttr<IntegerAttr>("end")?.Value ?? dims.Length;
                start = Math.Clamp(start < 0 ? start + dims.Length : start, 0, dims.Length);
                end = Math.Clamp(end < 0 ? end + dims.Length : end, start, dims.Length);
                var slice = dims[(int)start..(int)end];
                if (rt.ElementType is IntegerType && rt.Shape!.Count == 1 && rt.Shape[0].Size == slice.Length)
                {
                    known[op.Result(0)] = NDArray.Create(rt.ElementType, [slice.Length], slice);
                }
            }

            return;
        }

        if (GraphDialect.Info(op.Name) is not { Pure: true } info)
        {
            return;
        }

        var inputs = new List<NDArray?>();
        foreach (var v in op.Operands)
        {
            if (v is null)
            {
                return;
            }

            if (v.Type is NoneType)
            {
                inputs.Add(null);
            }
            else if (ValueOf(v, known) is { } a)
            {
                inputs.Add(a);
            }
            else
            {
                return;
            }
        }

        try
        {
            var outs = info.Kernel(new KernelContext(op, inputs, (int)(op.GetAttr<IntegerAttr>(GraphDialect.OpsetAttr)?.Value ?? 0)));
            for (int i = 0; i < op.NumResults && i < outs.Count; i++)
            {
                if (outs[i].Type == op.Result(i).Type)
                {
                    known[op.Result(i)] = outs[i];
                }
            }
        }
        catch (Exception e) when (e is EvalException or OverflowException or IndexOutOfRangeException or ArgumentException or InvalidCastException)
        {
            // Left for the evaluator to report at run time.
        }
    }

    private bool Refine(Operation op, int index, Dim[] inferred, Operation func, FunctionType? ft, bool mayRetype, PassContext context)
    {
        var result = op.Result(index);
        if (result.Type is not TensorType current)
        {
            return false;
        }

        Dim[] merged;
        if (current.Shape is not { } shape)
        {
            merged = inferred;
        }
        else if (shape.Count != inferred.Length || shape.Where((d, k) => !d.IsDynamic && !inferred[k].IsDynamic && d.Size != inferred[k].Size).Any())
        {
            context.Diagnostics.Warning(ShapeConflict,
                $"graph-shape-infer: '{op.Name}' result #{index} is {current} but its inputs give shape [{string.Join("x", inferred)}]; keeping {current}",
                op.Location);
            return false;
        }
        else
        {
            merged = shape.Select((d, k) => MorePrecise(d, inferred[k])).ToArray();
        }

        var refinedType = new TensorType(merged, current.ElementType);
        if (refinedType == current || !CanRetype(result, func, ft, mayRetype))
        {
            return false;
        }

        result.Type = refinedType;
        return true;
    }

    /// <summary>A static dim beats <c>{sym}</c>, which beats <c>?</c>; on a tie the IR's dim stays.</summary>
    private static Dim MorePrecise(Dim ir, Dim inferred) =>
        !ir.IsDynamic ? ir : !inferred.IsDynamic ? inferred : ir.Symbol is null && inferred.Symbol is not null ? inferred : ir;

    /// <summary>
    /// A result may change type only if every user accepts any tensor type: graph ops, and func.return where the
    /// function's result is unranked and the signature may be updated. Calls, branches and other ops check types.
    /// </summary>
    private static bool CanRetype(Value v, Operation func, FunctionType? ft, bool mayRetype)
    {
        foreach (var use in v.Uses)
        {
            var user = use.Owner;
            if (user.Name.StartsWith("graph.", StringComparison.Ordinal))
            {
                continue;
            }

            if (user.Name == "func.return" && user.ParentOp == func && mayRetype && ft is not null
                && use.Index < ft.Results.Count && ft.Results[use.Index] is TensorType { IsRanked: false })
            {
                continue;
            }

            return false;
        }

        return true;
    }

    /// <summary>Sets each unranked function result to its returned value's type when all returns agree.</summary>
    private static bool UpdateSignature(Operation func, FunctionType ft)
    {
        var returns = func.Regions[0].Blocks.Select(b => b.Operations.LastOrDefault()).Where(o => o is { Name: "func.return" }).ToList();
        var results = ft.Results.ToArray();
        for (int i = 0; i < results.Length; i++)
        {
            if (results[i] is not TensorType { IsRanked: false } || returns.Count == 0 || returns.Any(r => r!.NumOperands != results.Length))
            {
                continue;
            }

            var types = returns.Select(r => r!.Operand(i).Type).Distinct().ToList();
            if (types.Count == 1)
            {
                results[i] = types[0];
            }
        }

        var updated = new FunctionType(ft.Inputs, results);
        if (updated == ft)
        {
            return false;
        }

        func.SetAttr(FuncDialect.FunctionTypeAttr, new TypeAttr(updated));
        return true;
    }

    /// <summary>Whether a func.call in the enclosing symbol table calls this function (its signature must then stay).</summary>
    private static bool HasCallers(Operation func)
    {
        var name = SymbolTable.GetName(func);
        var root = func.ParentOp;
        return root is not null && root.Walk().Any(o => o.Name == "func.call" && o.GetAttr<SymbolRefAttr>(FuncDialect.CalleeAttr) is { } c && c.Root == name);
    }
}
