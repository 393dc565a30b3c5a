using System.Buffers.Binary;
using System.Text;
using Tessera.Dialects.Graph;
using Tessera.IR.Passes;
using Tessera.Onnx;
using Tessera.Passes;
using Tessera.Tests.Passes;

namespace Tessera.Tests.Gguf;

/// <summary>
/// ggml dequantization against llama.cpp's files: the tensors of tests/data/gguf (row prefixes cut unchanged out of
/// llama-quantize's GGUFs, see tests/data/gguf/extract.py) decode bit for bit to gguf-py's dequantisation, which the
/// corpus checked bit-exact against ggml's own to_float. Also graph.dequantize_ggml in the evaluator and canonicalize.
/// </summary>
public class GgmlDequantTests
{
    private static string DataDir => Path.Combine(Repo.Root, "tests", "data", "gguf", "dequant");

    private sealed record Tensor(string Name, long[] Dims, int Type, byte[] Data);

    /// <summary>A minimal GGUF walker: skips the metadata (reading general.alignment) and returns each tensor's bytes.</summary>
    private static Dictionary<string, Tensor> ReadGguf(string path)
    {
        var b = File.ReadAllBytes(path);
        int pos = 0;
        uint U32() { var v = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos)); pos += 4; return v; }
        ulong U64() { var v = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(pos)); pos += 8; return v; }
        string Str() { int n = checked((int)U64()); var s = Encoding.UTF8.GetString(b, pos, n); pos += n; return s; }
        ulong Value(uint type)
        {
            switch (type)
            {
                case 0 or 1 or 7: pos += 1; return b[pos - 1];
                case 2 or 3: pos += 2; return 0;
                case 4 or 5 or 6: return U32();
                case 10 or 11 or 12: return U64();
                case 8: Str(); return 0;
                case 9:
                    uint et = U32();
                    for (ulong i = 0, n = U64(); i < n; i++)
                    {
                        Value(et);
                    }

                    return 0;
                default: throw new InvalidDataException($"bad GGUF value type {type}");
            }
        }

        Assert.Equal("GGUF", Encoding.ASCII.GetString(b, 0, 4));
        pos = 4;
        Assert.InRange(U32(), 2u, 3u);
        ulong nTensors = U64(), nKv = U64();
        ulong alignment = 32;
        for (ulong i = 0; i < nKv; i++)
        {
            string key = Str();
            ulong v = Value(U32());
            if (key == "general.alignment")
            {
                alignment = v;
            }
        }

        var infos = new List<(string Name, long[] Dims, int Type, ulong Offset)>();
        for (ulong i = 0; i < nTensors; i++)
        {
            string name = Str();
            var dims = new long[U32()];
            for (int d = 0; d < dims.Length; d++)
            {
                dims[d] = (long)U64();
            }

            infos.Add((name, dims, (int)U32(), U64()));
        }

        long start = (long)(((ulong)pos + alignment - 1) / alignment * alignment);
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, dims, type, offset) in infos)
        {
            long count = dims.Aggregate(1L, (a, d) => a * d);
            long bytes = type switch
            {
                0 => count * 4,
                1 or 30 => count * 2,
                _ => BlockQuantType.Get((BlockFormat)type).ByteSize(count) ?? throw new InvalidDataException($"{name}: not whole blocks"),
            };
            result[name] = new Tensor(name, dims, type, b.AsSpan((int)(start + (long)offset), (int)bytes).ToArray());
        }

        return result;
    }

    public static TheoryData<string, string, string, string> CorpusTensors()
    {
        var data = new TheoryData<string, string, string, string>();
        (string File, string[] Types)[] files =
        [
            ("Q8_0", ["Q8_0", "Q8_0", "Q8_0"]), ("Q4_0", ["Q4_0", "Q4_0", "Q4_0"]), ("Q4_K_M", ["Q4_K", "Q4_K", "Q6_K"]),
            ("Q5_K_M", ["Q5_K", "Q5_K", "Q6_K"]), ("Q6_K", ["Q6_K", "Q6_K", "Q6_K"]), ("f16", ["F16", "F16", "F16"]),
        ];
        string[] tensors = ["blk.0.attn_q", "blk.0.attn_v", "blk.1.ffn_down"];
        foreach (var model in new[] { "llama", "qwen2" })
        {
            foreach (var (file, types) in files)
            {
                for (int t = 0; t < tensors.Length; t++)
                {
                    data.Add(model, file, tensors[t], types[t]);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusTensors))]
    public void CorpusTensorDecodesBitExactly(string model, string file, string tensor, string expectedType)
    {
        var t = ReadGguf(Path.Combine(DataDir, $"{model}-{file}.gguf"))[tensor + ".weight"];
        Assert.Equal(expectedType, t.Type == 1 ? "F16" : ((BlockFormat)t.Type).ToString());
        long count = t.Dims.Aggregate(1L, (a, d) => a * d);
        float[] got = t.Type == 1 ? GgmlDequant.F16ToF32(t.Data) : GgmlDequant.Dequantize((BlockFormat)t.Type, t.Data, count);

        var reference = Npy.Read(Path.Combine(DataDir, $"{model}-{file}__{tensor}.npy"));
        Assert.Equal([t.Dims[1], t.Dims[0]], reference.Shape);
        var want = reference.F!;
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
        {
            // For F16 the reference is the F32 model's weight: the f16 file holds it rounded to nearest even.
            float w = t.Type == 1 ? (float)(Half)(float)want[i] : (float)want[i];
            if (BitConverter.SingleToInt32Bits(w) != BitConverter.SingleToInt32Bits(got[i]))
            {
                Assert.Fail($"{model}-{file} {tensor} element {i}: expected {w:R} (0x{BitConverter.SingleToInt32Bits(w):X8}), got {got[i]:R} (0x{BitConverter.SingleToInt32Bits(got[i]):X8})");
            }
        }
    }

    [Fact]
    public void DequantizeOpEvaluatesRowByRowAndCanonicalizeKeepsItQuantized()
    {
        var t = ReadGguf(Path.Combine(DataDir, "llama-Q4_K_M.gguf"))["blk.0.attn_v.weight"];
        long rows = t.Dims[1], cols = t.Dims[0];
        string type = $"tensor<{rows}x{cols}x!ggml.q4_k>";
        var (ctx, module) = PassTestUtil.Parse($$"""
            builtin.module {
              func.func @f() -> tensor<{{rows}}x{{cols}}xf32> {
                %w = arith.constant dense<"0x{{System.Convert.ToHexString(t.Data)}}"> : {{type}}
                %wf = graph.dequantize_ggml(%w) : ({{type}}) -> tensor<{{rows}}x{{cols}}xf32>
                func.return(%wf) : tensor<{{rows}}x{{cols}}xf32>
              }
            }
            """);
        var func = PassTestUtil.Func(module, "f");
        var expected = GgmlDequant.Dequantize(BlockFormat.Q4_K, t.Data, rows * cols);

        void Check()
        {
            var y = GraphEvaluator.Run(func, [])[0];
            Assert.Equal(FloatType.F32, y.ElementType);
            Assert.Equal([rows, cols], y.Shape);
            Assert.Equal(expected.Select(v => (double)v), y.F!);
        }

        Check();
        var diags = new DiagnosticBag();
        var pm = PassManager.Parse(ctx, DefaultPasses.CreateRegistry(), "builtin.module(func.func(canonicalize,cse))", diags);
        Assert.True(pm is not null, diags.Render());
        Assert.True(pm!.Run(module, diags).Succeeded, diags.Render());
        Assert.Equal(1, PassTestUtil.CountOps(module, "graph.dequantize_ggml"));
        var constant = module.Walk().Single(o => o.Name == "arith.constant");
        Assert.IsType<BlockQuantType>(((ShapedType)constant.Result(0).Type).ElementType);
        Check();
    }

    [Fact]
    public void QuantizedConstantIsOpaqueAndOtherOpsRejectIt()
    {
        var bytes = new byte[2 * 18];
        var attr = new DenseElementsAttr(new TensorType([new Dim(2), new Dim(32)], BlockQuantType.Get(BlockFormat.Q4_0)), new ArrayStorage(bytes));
        var a = Tessera.Dialects.Graph.Convert.FromAttr(attr);
        Assert.True(a.IsOpaque);
        Assert.Same(attr, a.Opaque);
        Assert.Null(a.F);
        Assert.Null(a.I);
        Assert.Equal(64, a.Length);
        Assert.Equal([2L, 32L], a.Shape);
        Assert.Contains("block-quantized", a.ToString());
        Assert.Throws<EvalException>(() => a.AsDoubles());
        Assert.Same(attr, Tessera.Dialects.Graph.Convert.ToAttr(a));

        var (_, module) = PassTestUtil.Parse($$"""
            builtin.module {
              func.func @f() -> tensor<2x32xf32> {
                %w = arith.constant dense<"0x{{System.Convert.ToHexString(bytes)}}"> : tensor<2x32x!ggml.q4_0>
                %n = graph.neg(%w) : (tensor<2x32x!ggml.q4_0>) -> tensor<2x32xf32>
                func.return(%n) : tensor<2x32xf32>
              }
            }
            """);
        var ex = Assert.Throws<GraphEvaluator.Failure>(() => GraphEvaluator.Run(PassTestUtil.Func(module, "f"), []));
        Assert.Contains("dequantize_ggml", ex.Message);

        var wrong = new DenseElementsAttr(new TensorType([new Dim(32)], BlockQuantType.Get(BlockFormat.Q4_0)), new ArrayStorage(new byte[17]));
        Assert.Throws<EvalException>(() => NDArray.FromOpaque(wrong));
    }
}
