namespace Tessera.Dialects.Graph;

/// <summary>
/// Ops on ggml block-quantized tensors. Weights stay block-quantized in the IR
/// (<c>arith.constant dense&lt;"0x..."&gt; : tensor&lt;512x256x!ggml.q4_k&gt;</c>, a memory-mapped slice) and are decoded
/// by <c>graph.dequantize_ggml</c> where they are used; it is never constant-folded (see
/// <see cref="GraphDialect"/>), so the module keeps the quantized bytes rather than a float copy.
/// </summary>
public static partial class QuantOps
{
    public static IEnumerable<GraphOpInfo> Ops =>
    [
        new("graph.dequantize_ggml", null, "", 1, DequantizeGgml)
        {
            ResultType = Rules.Fixed(FloatType.F32),
            TakesBlockQuantized = true,
            Summary = "decodes a tensor of ggml blocks (!ggml.q4_k, ...) to f32 exactly as ggml's dequantize_row_*, row by row along the innermost dimension; f16/bf16/f32 inputs are widened to f32",
        },
    ];

    private static IReadOnlyList<NDArray> DequantizeGgml(KernelContext k)
    {
        if (k.NumInputs != 1)
        {
            throw new EvalException($"takes 1 input, got {k.NumInputs}");
        }

        var x = k.In(0);
        if (x.Opaque is not { } attr)
        {
            return x.ElementType is FloatType
                ? [NDArray.Create(FloatType.F32, x.Shape, (double[])x.F!.Clone())]
                : throw new EvalException($"input must be block-quantized (!ggml.*) or float, not {x.ElementType}");
        }

        var bt = (BlockQuantType)x.ElementType;
        if (x.Rank == 0)
        {
            throw new EvalException($"a scalar of {bt} has no rows of blocks");
        }

        long rowLen = x.Shape[^1];
        long rows = rowLen == 0 ? 0 : x.Length / rowLen;
        if (rowLen % bt.BlockSize != 0)
        {
            throw new EvalException($"innermost dimension {rowLen} is not a multiple of {bt}'s block size {bt.BlockSize}");
        }

        int rowBytes = checked((int)(rowLen / bt.BlockSize * bt.BytesPerBlock));
        var output = new double[x.Length];
        var row = new float[rowLen];
        for (long r = 0; r < rows; r++)
        {
            GgmlDequant.DequantizeInto(bt.Format, attr.Storage.Slice(r * rowBytes, rowBytes), row);
            long o = r * rowLen;
            for (int c = 0; c < row.Length; c++)
            {
                output[o + c] = row[c];
            }
        }

        return [NDArray.Create(FloatType.F32, x.Shape, output)];
    }
}
