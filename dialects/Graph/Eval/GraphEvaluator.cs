namespace Tessera.Dialects.Graph;

/// <summary>
/// The reference evaluator: runs a function of graph, arith and func ops on <see cref="NDArray"/> values.
/// It is the numeric oracle every pass is checked against (evaluate before, evaluate after, compare).
/// </summary>
public static class GraphEvaluator
{
    /// <summary>An evaluation failure at an op; <see cref="Diagnostic"/> carries its location.</summary>
    public sealed class Failure(Diagnostic diagnostic) : Exception(diagnostic.Render())
    {
        public Diagnostic Diagnostic { get; } = diagnostic;
    }

    public const string EvalError = "TSR0601";

    // Weights are converted once per attribute, not on every run; kernels never write into their inputs.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DenseElementsAttr, NDArray> Constants = [];

    /// <summary>Evaluates <paramref name="func"/> (a func.func) on <paramref name="args"/>. Throws <see cref="Failure"/>.</summary>
    public static IReadOnlyList<NDArray> Run(Operation func, IReadOnlyList<NDArray> args)
    {
        var body = func.Regions.Count == 1 ? func.Regions[0].EntryBlock : null;
        if (body is null)
        {
            throw Fail(func, "function has no body to evaluate");
        }

        if (body.Arguments.Count != args.Count)
        {
            throw Fail(func, $"function takes {body.Arguments.Count} input(s) but {args.Count} were given");
        }

        var values = new Dictionary<Value, NDArray?>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < args.Count; i++)
        {
            CheckArgument(func, body.Arguments[i], args[i], i);
            values[body.Arguments[i]] = args[i];
        }

        foreach (var op in body.Operations)
        {
            switch (op.Name)
            {
                case "func.return":
                    return op.Operands.Select(v => values[v!] ?? throw Fail(op, "returns an absent value")).ToList();
                case "arith.constant":
                    values[op.Result(0)] = op.GetAttr("value") switch
                    {
                        DenseElementsAttr d => Constants.GetValue(d, Convert.FromAttr),
                        IntegerAttr i => NDArray.Create(i.Type, [], [i.Value]),
                        FloatAttr f => NDArray.Create(f.Type, [], [f.Value]),
                        ElidedElementsAttr => throw Fail(op, "constant data was elided when this IR was printed; it cannot be evaluated"),
                        var a => throw Fail(op, $"cannot evaluate a constant of {a}"),
                    };
                    break;
                case "graph.none":
                    values[op.Result(0)] = null;
                    break;
                default:
                    RunOp(op, values);
                    break;
            }
        }

        throw Fail(func, "function body has no func.return");
    }

    private static void CheckArgument(Operation func, BlockArgument arg, NDArray value, int i)
    {
        if (arg.Type is not TensorType t)
        {
            return;
        }

        if (t.ElementType != value.ElementType)
        {
            throw Fail(func, $"input #{i} has element type {value.ElementType} but the function expects {t.ElementType}");
        }

        if (t.Shape is { } shape && (shape.Count != value.Rank || shape.Where((d, k) => !d.IsDynamic && d.Size != value.Shape[k]).Any()))
        {
            throw Fail(func, $"input #{i} has shape [{string.Join(", ", value.Shape)}] but the function expects {t}");
        }
    }

    private static void RunOp(Operation op, Dictionary<Value, NDArray?> values)
    {
        var info = GraphDialect.Info(op.Name) ?? throw Fail(op, $"the evaluator has no kernel for '{op.Name}'");
        var inputs = op.Operands.Select(v => values.TryGetValue(v!, out var a) ? a : throw Fail(op, "operand not computed before use")).ToList();
        if (!info.TakesBlockQuantized && inputs.FirstOrDefault(a => a?.Opaque is not null) is { } q)
        {
            throw Fail(op, $"an input of {q.ElementType} is block-quantized; dequantize it with graph.dequantize_ggml first");
        }

        IReadOnlyList<NDArray> outs;
        try
        {
            outs = info.Kernel(new KernelContext(op, inputs, (int)(op.GetAttr<IntegerAttr>(GraphDialect.OpsetAttr)?.Value ?? 0)));
        }
        catch (EvalException e)
        {
            throw Fail(op, e.Message);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or OverflowException or InvalidCastException)
        {
            throw Fail(op, $"kernel failed: {e.Message}");
        }

        if (outs.Count < op.NumResults)
        {
            throw Fail(op, $"kernel produced {outs.Count} result(s) but the op has {op.NumResults}");
        }

        for (int i = 0; i < op.NumResults; i++)
        {
            values[op.Result(i)] = outs[i];
        }
    }

    private static Failure Fail(Operation op, string message) =>
        new(new Diagnostic(Severity.Error, EvalError, $"'{op.Name}': {message}", op.Location));
}
