using Tessera.Npu.Lowering;
using Tessera.Dialects;

namespace Tessera.Passes.Npu;

/// <summary>
/// Where each op of a function runs when it is compiled for the NPU: on the NPU (a kernel), as an alias (a reshape
/// that only renames bytes already in DRAM), or on the host (the reference evaluator, as Vela leaves unsupported ops
/// on the CPU), with the reason. <c>npu-partition</c> records the answer on every op; the emitter follows it.
/// </summary>
public static class NpuPlacement
{
    public const string PlaceAttr = "npu.place";
    public const string ReasonAttr = "npu.reason";
    public const string Npu = "npu", Alias = "alias", Host = "host";

    private static readonly HashSet<string> AliasOps = new(StringComparer.Ordinal)
    {
        "graph.reshape", "graph.squeeze", "graph.unsqueeze", "graph.flatten", "graph.identity",
    };

    /// <summary>The placement and, for the host, why.</summary>
    public static (string Place, string? Reason) Classify(Operation op)
    {
        var types = op.Operands.Select(v => v!).Where(v => v.DefiningOp?.Name != "graph.none").Select(v => v.Type).Concat(op.Results.Select(r => r.Type)).ToList();
        if (types.Any(t => t is not TensorType { HasStaticShape: true }))
        {
            return (Host, "a shape is not static (bind symbolic dims with --dims)");
        }

        if (AliasOps.Contains(op.Name) && op.NumResults == 1 && ElementBytes(op.Result(0).Type) > 0)
        {
            return (Alias, null);
        }

        // Constant integer operands (split sizes, axes) are compile-time data, not tensors the NPU touches.
        bool floats = op.Operands.Select(v => v!).Where(v => v.DefiningOp?.Name is not ("graph.none" or "arith.constant") || IsFloat(v.Type)).Select(v => v.Type)
            .Concat(op.Results.Select(r => r.Type)).All(IsFloat);
        if (op.Name == "graph.cast" && op.Operand(0).Type == op.Result(0).Type)
        {
            return (Alias, null);
        }

        // sdpa may take a bool mask; NpuKernels checks its types itself.
        if ((floats || op.Name == "graph.sdpa") && NpuKernels.Vector(op) is { } why)
        {
            return why.Length == 0 ? (Npu, null) : (Host, why);
        }

        switch (op.Name)
        {
            case "graph.mat_mul" or "graph.gemm":
                return Matmul(op, floats);
            case "graph.transpose" when NpuMatmulForm.FoldsInto(op):
                return (Alias, null);
            case "graph.transpose":
                // Any permutation: npu-move-to-tile reads the source through a permuting tile.view.
                return ElementBytes(op.Result(0).Type) is 1 or 2 or 4 or 8 ? (Npu, null) : (Host, "an element type the NPU's DRAM does not hold");
            case "graph.slice" or "graph.concat" or "graph.split":
                return NpuDataMovement.Reason(op) is { } moveWhy ? (Host, moveWhy) : (Npu, null);
            case var _ when NpuReductions.Handles(op):
                // The data must be f16/bf16; an axes operand is judged by NpuReductions (constant or not).
                return !IsFloat(op.Operand(0).Type) || !IsFloat(op.Result(0).Type) ? (Host, "integer or boolean tensors run on the host")
                    : NpuReductions.Reason(op) is { } reduceWhy ? (Host, reduceWhy) : (Npu, null);
            case "graph.gather":
                return GatherForm(op) is { } g
                    ? (DmaKernels.GatherReason(g.Rows, g.Cols, ElementBytes(op.Operand(0).Type), long.MaxValue) is { } gatherWhy ? (Host, gatherWhy) : (Npu, null))
                    : (Host, "a gather other than rows of a table (axis 0) picked by int64 indices");
            case "graph.pad":
                return ElementBytes(op.Operand(0).Type) == 0 ? (Host, "an element type the NPU's DRAM does not hold")
                    : NpuDataMovement.Pad(op, long.MaxValue).Why is { } padWhy ? (Host, padWhy) : (Npu, null);
        }

        return !floats ? (Host, "integer or boolean tensors run on the host") : (Host, $"no NPU kernel for {op.Name} yet");
    }

    private static (string, string?) Matmul(Operation op, bool floats)
    {
        if (!floats)
        {
            return (Host, "only f16/bf16 matmuls run on the matrix unit (run demote-f32 first)");
        }

        var (form, why) = NpuMatmulForm.Of(op);
        if (form is null)
        {
            return (Host, why);
        }

        if (op.Name == "graph.gemm")
        {
            if (FloatAttr(op, "alpha") != 1 || FloatAttr(op, "beta") != 1)
            {
                return (Host, "gemm with alpha or beta other than 1");
            }

            if (op.NumOperands > 2 && op.Operand(2).DefiningOp?.Name != "graph.none"
                && ((TensorType)op.Operand(2).Type).ElementCount != form.N)
            {
                return (Host, "gemm bias that is not one value per output column");
            }
        }

        return form.M <= 0 || form.N <= 0 || form.K <= 0 ? (Host, "an empty matmul") : (Npu, null);
    }

    /// <summary>Whether the right operand is a constant gemm stores transposed (transB), possibly behind casts to the same
    /// type (an f16 GGUF weight cast to f32, then demoted back): npu-matmul-to-tile transposes it at compile time and the
    /// kernel reads it as a plain K×N matrix.</summary>
    public static bool TransB(Operation op) => op.Name == "graph.gemm" && IntAttr(op, "transB") != 0 && ConstantRoot(op.Operand(1)).DefiningOp?.Name == "arith.constant";

    /// <summary>The value behind casts to the same type.</summary>
    public static Value ConstantRoot(Value v)
    {
        while (v.DefiningOp is { Name: "graph.cast" } c && c.Operand(0)!.Type == v.Type)
        {
            v = c.Operand(0)!;
        }

        return v;
    }

    /// <summary>A gather of whole rows: data [rows, ...] (each row cols elements), axis 0, int64 indices; null otherwise.</summary>
    public static (long Count, long Rows, long Cols)? GatherForm(Operation op)
    {
        if (op.NumOperands != 2 || op.Operand(1).Type is not TensorType { ElementType: IntegerType { Width: 64 } } || ElementBytes(op.Operand(0).Type) == 0)
        {
            return null;
        }

        var data = Shape(op.Operand(0));
        long axis = IntAttr(op, "axis");
        return data.Length < 1 || (axis != 0 && axis != -data.Length) ? null
            : (Shape(op.Operand(1)).Aggregate(1L, (a, b) => a * b), data[0], data.Skip(1).Aggregate(1L, (a, b) => a * b));
    }

    public static long[] Shape(Value v) => ((TensorType)v.Type).Shape!.Select(d => d.Size).ToArray();

    public static int[] Perm(Operation op) => op.GetAttr("perm") is ArrayAttr a
        ? a.Elements.Select(e => (int)((IntegerAttr)e).Value).ToArray()
        : Enumerable.Range(0, ((TensorType)op.Operand(0).Type).Rank).Reverse().ToArray();

    /// <summary>Bytes per element of a tensor type the bundle can hold, or 0.</summary>
    public static int ElementBytes(Type t) => t is TensorType tt ? BytesOf(tt.ElementType) : 0;

    /// <summary>Bytes of one element of <paramref name="element"/> in NPU DRAM or SRAM; 0 for a type they do not hold.</summary>
    public static int BytesOf(Type element) => element switch
    {
        FloatType f when f == FloatType.F16 || f == FloatType.BF16 => 2,
        FloatType f when f == FloatType.F32 => 4,
        IntegerType { Width: 64 } => 8,
        IntegerType { Width: 32 } => 4,
        IntegerType { Width: 8 } or IntegerType { Width: 1 } => 1,
        _ => 0,
    };

    /// <summary>The bundle's name for a tensor type's element type (see docs/npu/bundle.md), or null.</summary>
    public static string? DType(Type t) => (t as TensorType)?.ElementType switch
    {
        FloatType f when f == FloatType.F16 => "f16",
        FloatType f when f == FloatType.BF16 => "bf16",
        FloatType f when f == FloatType.F32 => "f32",
        IntegerType { Width: 64 } => "i64",
        IntegerType { Width: 32 } => "i32",
        IntegerType { Width: 8 } => "i8",
        IntegerType { Width: 1 } => "bool",
        _ => null,
    };

    private static bool IsFloat(Type t) => ((TensorType)t).ElementType == FloatType.F16 || ((TensorType)t).ElementType == FloatType.BF16;

    private static long IntAttr(Operation op, string name) => (op.GetAttr(name) as IntegerAttr)?.Value ?? 0;

    private static double FloatAttr(Operation op, string name) => (op.GetAttr(name) as FloatAttr)?.Value ?? 1.0;
}
