namespace Tessera.Passes.Npu;

/// <summary>
/// The graph ops the vector unit runs row by row, as <see cref="RowKernel"/>s: element-wise ops (with a full, per-row,
/// per-column or scalar second operand), activations, softmax, rms_norm and layer_norm. Everything is computed in fp32
/// and rounded once to the result type.
/// </summary>
public static class RowKernels
{
    /// <summary>The binary graph ops and their <c>tile.vector</c> kinds.</summary>
    public static readonly IReadOnlyDictionary<string, string> Binaries = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["graph.add"] = "add", ["graph.sub"] = "sub", ["graph.mul"] = "mul", ["graph.max"] = "max", ["graph.min"] = "min",
    };

    /// <summary>The unary graph ops (activations).</summary>
    public static readonly IReadOnlyList<string> Unaries = ["graph.exp", "graph.silu", "graph.gelu", "graph.neg", "graph.relu", "graph.sigmoid", "graph.tanh"];

    /// <summary>The op's row kernel, or null when it is not one (or its shape does not fit one).</summary>
    public static RowKernel? Of(Operation op)
    {
        if (!RowKernel.Fits(op.Result(0).Type) || op.Operands.Any(v => NpuPlacement.DType(v!.Type) != NpuPlacement.DType(op.Result(0).Type)))
        {
            return null;
        }

        var shape = NpuPlacement.Shape(op.Result(0));
        long cols = shape[^1], rows = shape.Aggregate(1L, (p, q) => p * q) / cols;
        RowKernel Make((Value, RowInput)[] inputs, Action<RowKernel.Block> compute, int work = 0, int scalars = 0) =>
            new() { Rows = rows, Cols = cols, Inputs = inputs, Work = work, Scalars = scalars, Compute = compute };

        if (Binaries.TryGetValue(op.Name, out var kind))
        {
            if (NpuKernels.Broadcasting(op) is not var (full, other))
            {
                return null;
            }

            // The full operand is a: sub only has a full first operand (see Broadcasting); the others commute.
            return Make([(op.Operand(full), RowInput.Stream), (op.Operand(1 - full), other)], k => k.Vec(kind, k.Out, k.In(0), k.In(1)));
        }

        if (Unaries.Contains(op.Name))
        {
            return Make([(op.Operand(0), RowInput.Stream)], k => Unary(k, op.Name["graph.".Length..]), work: op.Name is "graph.sigmoid" or "graph.tanh" ? 1 : 0);
        }

        double eps = (op.GetAttr("epsilon") as FloatAttr)?.Value ?? 1e-5;
        switch (op.Name)
        {
            case "graph.softmax" when NpuKernels.Vector(op) == "":
                return Make([(op.Operand(0), RowInput.Stream)], k =>
                {
                    var (x, m) = (k.W(0), k.S(0));
                    k.Vec("copy", x, k.In(0));
                    k.Reduce("max", x, m);
                    k.Vec("sub", x, x, m);
                    k.Vec("exp", x, x);
                    k.Reduce("sum", x, m);
                    k.Vec("recip", m, m);
                    k.Vec("mul", k.Out, x, m);
                }, work: 1, scalars: 1);
            case "graph.rms_norm" when NpuKernels.Vector(op) == "":
                return Make([(op.Operand(0), RowInput.Stream), (op.Operand(1), RowInput.Row)], k =>
                {
                    var (x, sq, r) = (k.W(0), k.W(1), k.S(0));
                    k.Vec("copy", x, k.In(0));
                    k.Vec("mul", sq, x, x);
                    k.Reduce("sum", sq, r);
                    InvStd(k, r, cols, eps);
                    k.Vec("mul", x, x, r);
                    k.Vec("mul", k.Out, x, k.In(1));
                }, work: 2, scalars: 1);
            case "graph.layer_norm" when NpuKernels.Vector(op) == "":
                bool bias = op.NumOperands > 2 && op.Operand(2).DefiningOp?.Name != "graph.none";
                return Make([(op.Operand(0), RowInput.Stream), (op.Operand(1), RowInput.Row), .. bias ? [(op.Operand(2), RowInput.Row)] : Array.Empty<(Value, RowInput)>()], k =>
                {
                    var (x, sq, r) = (k.W(0), k.W(1), k.S(0));
                    // Two passes (the mean, then the mean of squared deviations): no cancellation of E[x²] − E[x]².
                    k.Vec("copy", x, k.In(0));
                    k.Reduce("sum", x, r);
                    k.Vec("mul", r, r, 1.0 / cols);
                    k.Vec("sub", x, x, r);
                    k.Vec("mul", sq, x, x);
                    k.Reduce("sum", sq, r);
                    InvStd(k, r, cols, eps);
                    k.Vec("mul", x, x, r);
                    k.Vec("mul", bias ? x : k.Out, x, k.In(1));
                    if (bias)
                    {
                        k.Vec("add", k.Out, x, k.In(2));
                    }
                }, work: 2, scalars: 1);
        }

        return null;
    }

    /// <summary>Per-row sums of squares in <paramref name="r"/> → 1/sqrt(sum/cols + eps).</summary>
    private static void InvStd(RowKernel.Block k, Value r, long cols, double eps)
    {
        k.Vec("mul", r, r, 1.0 / cols);
        k.Vec("add", r, r, eps);
        k.Vec("rsqrt", r, r);
    }

    private static void Unary(RowKernel.Block k, string op)
    {
        switch (op)
        {
            case "exp" or "silu" or "gelu":
                k.Vec(op, k.Out, k.In(0));
                break;
            case "neg":
                k.Vec("mul", k.Out, k.In(0), -1.0);
                break;
            case "relu":
                k.Vec("max", k.Out, k.In(0), 0.0);
                break;
            case "sigmoid":
                // 1 / (1 + exp(-x))
                k.Vec("mul", k.W(0), k.In(0), -1.0);
                k.Vec("exp", k.W(0), k.W(0));
                k.Vec("add", k.W(0), k.W(0), 1.0);
                k.Vec("recip", k.Out, k.W(0));
                break;
            default:
                // tanh = 1 - 2 / (exp(2x) + 1): saturates to ±1 without inf/inf.
                k.Vec("mul", k.W(0), k.In(0), 2.0);
                k.Vec("exp", k.W(0), k.W(0));
                k.Vec("add", k.W(0), k.W(0), 1.0);
                k.Vec("recip", k.W(0), k.W(0));
                k.Vec("mul", k.W(0), k.W(0), -2.0);
                k.Vec("add", k.Out, k.W(0), 1.0);
                break;
        }
    }
}
