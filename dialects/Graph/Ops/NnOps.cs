namespace Tessera.Dialects.Graph;

/// <summary>Convolution, pooling, resizing, quantization and ONNX Runtime contrib NN ops.</summary>
public static partial class NnOps
{
    private static readonly ElementTypeRule StatsF32 = (c, i) => i is 1 or 2 ? FloatType.F32 : c.Inputs.Count > 0 ? c.Inputs[0] : null;

    public static IEnumerable<GraphOpInfo> Ops =>
    [
        GraphOpInfo.Onnx("Conv", Conv) with { Summary = "N-d grouped, dilated, strided convolution" },
        GraphOpInfo.Onnx("ConvTranspose", ConvTranspose) with { Summary = "transposed (fractionally strided) convolution" },
        GraphOpInfo.Onnx("ConvInteger", ConvInteger, since: 10) with { ResultType = Rules.Fixed(IntegerType.I32), Summary = "integer convolution with zero points, int32 accumulator" },
        GraphOpInfo.Onnx("QLinearConv", QLinearConv, since: 10) with { ResultType = Rules.SameAsInput(7), Summary = "quantized convolution" },
        GraphOpInfo.Onnx("MaxPool", MaxPool) with { NumResults = 2, ResultType = (c, i) => i == 1 ? IntegerType.I64 : c.Inputs.Count > 0 ? c.Inputs[0] : null, Summary = "max pooling with optional argmax indices" },
        GraphOpInfo.Onnx("AveragePool", AveragePool) with { Summary = "average pooling" },
        GraphOpInfo.Onnx("LpPool", LpPool) with { Summary = "Lp-norm pooling" },
        GraphOpInfo.Onnx("GlobalAveragePool", GlobalAveragePool) with { Summary = "average over all spatial dims" },
        GraphOpInfo.Onnx("GlobalMaxPool", GlobalMaxPool) with { Summary = "max over all spatial dims" },
        GraphOpInfo.Onnx("GlobalLpPool", GlobalLpPool) with { Summary = "Lp norm over all spatial dims" },
        GraphOpInfo.Onnx("Resize", Resize, since: 10) with { Summary = "nearest/linear/cubic resize with coordinate transforms" },
        GraphOpInfo.Onnx("Upsample", Upsample, since: 7) with { Summary = "deprecated nearest/linear upsampling" },
        GraphOpInfo.Onnx("QuantizeLinear", QuantizeLinear, since: 10) with { ResultType = QuantizedType, Summary = "per-tensor, per-axis or blocked linear quantization" },
        GraphOpInfo.Onnx("DequantizeLinear", DequantizeLinear, since: 10) with { ResultType = DequantizedType, Summary = "per-tensor, per-axis or blocked linear dequantization" },
        GraphOpInfo.Onnx("DynamicQuantizeLinear", DynamicQuantizeLinear, since: 11) with
        {
            NumResults = 3,
            ResultType = (_, i) => i == 1 ? FloatType.F32 : IntegerType.U8,
            Summary = "uint8 quantization with scale and zero point computed from the data",
        },
        GraphOpInfo.Onnx("QLinearMatMul", QLinearMatMul, since: 10) with { ResultType = Rules.SameAsInput(7), Summary = "quantized matmul" },
        GraphOpInfo.Onnx("RotaryEmbedding", RotaryEmbedding, since: 23) with { Summary = "rotary position embedding (input, cos, sin, position_ids)" },
        GraphOpInfo.Onnx("SimplifiedLayerNormalization", SimplifiedLayerNormalization) with { NumResults = 2, ResultType = (c, i) => i == 1 ? FloatType.F32 : c.Inputs.Count > 0 ? c.Inputs[0] : null, Summary = "RMS normalization (ONNX Runtime contrib)" },
        GraphOpInfo.Microsoft("SkipLayerNormalization", SkipLayerNormalization) with { NumResults = 4, ResultType = StatsF32, Summary = "layer norm of input + skip + bias" },
        GraphOpInfo.Microsoft("SkipSimplifiedLayerNormalization", SkipSimplifiedLayerNormalization) with { NumResults = 4, ResultType = StatsF32, Summary = "RMS norm of input + skip + bias" },
        GraphOpInfo.Microsoft("FastGelu", FastGelu) with { Summary = "tanh-approximated GELU with optional bias" },
        GraphOpInfo.Microsoft("BiasGelu", BiasGelu) with { Summary = "erf GELU of A + B" },
        GraphOpInfo.Microsoft("Gelu", MsGelu) with { Summary = "erf GELU" },
        GraphOpInfo.Microsoft("RotaryEmbedding", MsRotaryEmbedding) with { Summary = "rotary position embedding (input, position_ids, cos, sin)" },
        GraphOpInfo.Microsoft("MatMulNBits", MatMulNBits) with { Summary = "matmul with block-quantized n-bit weights" },
    ];
}
