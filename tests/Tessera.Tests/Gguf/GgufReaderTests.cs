using System.Diagnostics;
using System.Text.Json;
using Tessera.Gguf;

namespace Tessera.Tests.Gguf;

/// <summary>The GGUF reader on llama.cpp-written files, writer round trips, <c>tessera gen</c> and <c>inspect</c>.</summary>
public sealed partial class GgufReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-gguf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Data(string name) => Path.Combine(Repo.Root, "tests/data/gguf", name);

    private static JsonElement Manifest(string arch) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tests/data/models", arch, "manifest.json"))).RootElement.GetProperty("gguf");

    [Theory]
    [InlineData("llama", "Q4_K_M")]
    [InlineData("qwen2", "f16")]
    public void CorpusFileMatchesTheManifest(string arch, string ftype)
    {
        var manifest = Manifest(arch);
        using var f = GgufFile.Open(Data($"{arch}/{arch}-{ftype}.gguf"));
        Assert.Equal(3u, f.Version);
        Assert.Equal(32, f.Alignment);
        Assert.Equal(0, f.DataOffset % 32);
        Assert.Equal(arch, f.Get("general.architecture")!.AsString());

        foreach (var kv in manifest.GetProperty("metadata_f32").EnumerateObject())
        {
            var v = f.Get(kv.Name);
            Assert.True(v is not null, kv.Name);
            switch (kv.Value.ValueKind)
            {
                case JsonValueKind.String when kv.Value.GetString()!.StartsWith("<array of ", StringComparison.Ordinal):
                    Assert.Equal(GgufValueType.Array, v.Type);
                    Assert.Equal(int.Parse(kv.Value.GetString()![10..^1], System.Globalization.CultureInfo.InvariantCulture), v.Items!.Count);
                    break;
                case JsonValueKind.String:
                    Assert.Equal(kv.Value.GetString(), v.AsString());
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    Assert.Equal(kv.Value.GetBoolean(), v.Value);
                    break;
                case JsonValueKind.Number when kv.Name != "general.file_type":
                    Assert.Equal(kv.Value.GetDouble(), v.AsDouble());
                    break;
            }
        }

        var hp = manifest.GetProperty("hparams");
        Assert.Equal(hp.GetProperty("num_hidden_layers").GetInt64(), f.Get($"{arch}.block_count")!.AsLong());
        Assert.Equal(hp.GetProperty("hidden_size").GetInt64(), f.Get($"{arch}.embedding_length")!.AsLong());
        Assert.Equal(hp.GetProperty("num_key_value_heads").GetInt64(), f.Get($"{arch}.attention.head_count_kv")!.AsLong());
        Assert.Equal(hp.GetProperty("rope_theta").GetDouble(), f.Get($"{arch}.rope.freq_base")!.AsDouble());

        var file = manifest.GetProperty("files").EnumerateArray().Single(e => e.GetProperty("file").GetString() == $"gguf/{arch}-{ftype}.gguf");
        Assert.Equal(file.GetProperty("size_bytes").GetInt64(), f.Mapping.Length);
        var types = file.GetProperty("tensor_types").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(types.Count, f.Tensors.Count);
        foreach (var t in f.Tensors)
        {
            Assert.Equal(types[t.Name], t.Type.ToString());
            Assert.Same(t, f.Tensor(t.Name));
        }

        long hidden = hp.GetProperty("hidden_size").GetInt64(), vocab = hp.GetProperty("vocab_size").GetInt64();
        Assert.Equal([vocab, hidden], f.Tensor("token_embd.weight")!.Shape);
        Assert.Equal([hidden, hp.GetProperty("intermediate_size").GetInt64()], f.Tensor("blk.1.ffn_down.weight")!.Shape);
        Assert.Null(f.Tensor("no.such.tensor"));
        Assert.Null(f.Get("no.such.key"));
    }

    [Fact]
    public void TensorAttrIsAMappedSliceWithTheIrType()
    {
        using var q = GgufFile.Open(Data("llama/llama-Q4_K_M.gguf"));
        var embd = q.TensorAttr(q.Tensor("token_embd.weight")!);
        Assert.Equal("tensor<512x256x!ggml.q4_k>", embd.Type.Text);
        var s = Assert.IsType<MappedStorage>(embd.Storage);
        Assert.Same(q.Mapping, s.File);
        Assert.Equal(512L * 256 / 256 * 144, s.Length);
        Assert.Equal("tensor<512x256x!ggml.q6_k>", q.TensorAttr(q.Tensor("output.weight")!).Type.Text);
        Assert.Equal("tensor<256xf32>", q.TensorAttr(q.Tensor("output_norm.weight")!).Type.Text);

        using var h = GgufFile.Open(Data("qwen2/qwen2-f16.gguf"));
        var wq = h.TensorAttr(h.Tensor("blk.0.attn_q.weight")!);
        Assert.Equal("tensor<256x256xf16>", wq.Type.Text);
        Assert.Equal(256 * 256 * 2, wq.Storage.Length);
        var bias = h.TensorAttr(h.Tensor("blk.0.attn_k.bias")!);
        Assert.Equal("tensor<128xf32>", bias.Type.Text);
        Assert.True(Enumerable.Range(0, 128).Select(i => bias.GetDouble(i)).All(double.IsFinite));
    }

    private static GgufValue[] AllValueTypes() =>
    [
        GgufValues.U8(200), GgufValues.I8(-100), GgufValues.U16(60000), GgufValues.I16(-30000), GgufValues.U32(4_000_000_000),
        GgufValues.I32(-2_000_000_000), GgufValues.F32(1.5e-5f), GgufValues.Bool(true), GgufValues.String("héllo\n\"gguf\""),
        GgufValues.U64(ulong.MaxValue), GgufValues.I64(long.MinValue), GgufValues.F64(Math.PI),
        GgufValues.F32s([1f, -2.5f, float.NaN]),
        GgufValues.Strings(["a", "", "ü"]),
        GgufValues.Array(GgufValueType.Array, [GgufValues.I32s([1, 2]), GgufValues.I32s([]), GgufValues.Array(GgufValueType.U8, [GgufValues.U8(7)])]),
        GgufValues.Array(GgufValueType.Array, [GgufValues.Array(GgufValueType.Array, [GgufValues.Strings(["deep"])])]),
        GgufValues.Array(GgufValueType.Bool, []),
    ];

    private static void AssertSameValue(GgufValue want, GgufValue got)
    {
        Assert.Equal(want.Type, got.Type);
        Assert.Equal(want.ElementType, got.ElementType);
        if (want.Type != GgufValueType.Array)
        {
            Assert.Equal(want.Value, got.Value);
            return;
        }

        Assert.Equal(want.Items!.Count, got.Items!.Count);
        for (int i = 0; i < want.Items.Count; i++)
        {
            AssertSameValue(want.Items[i], got.Items[i]);
        }
    }

    [Fact]
    public void WriterRoundTripsEveryValueTypeAndTensor()
    {
        var values = AllValueTypes();
        var w = new GgufWriter();
        w.Add("general.alignment", GgufValues.U32(64));
        for (int i = 0; i < values.Length; i++)
        {
            w.Add($"test.v{i}", values[i]);
        }

        var rng = new Random(1);
        byte[] Bytes(int n) { var b = new byte[n]; rng.NextBytes(b); return b; }
        var tensors = new (string Name, GgmlType Type, long[] Dims, byte[] Data)[]
        {
            ("f32", GgmlType.F32, [3, 2], Bytes(24)),
            ("f16", GgmlType.F16, [5], Bytes(10)),
            ("bf16", GgmlType.BF16, [2, 2, 2], Bytes(16)),
            ("q8_0", GgmlType.Q8_0, [64, 3], Bytes(6 * 34)),
            ("q4_0", GgmlType.Q4_0, [32, 1, 1, 2], Bytes(2 * 18)),
            ("q4_k", GgmlType.Q4_K, [256, 2], Bytes(2 * 144)),
            ("q6_k", GgmlType.Q6_K, [512], Bytes(2 * 210)),
            ("scalar", GgmlType.F32, [], Bytes(4)),
        };
        foreach (var t in tensors)
        {
            w.AddTensor(t.Name, t.Type, t.Dims, t.Data);
        }

        var path = Path.Combine(_dir, "rt.gguf");
        w.Write(path);
        using var f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal(64, f.Alignment);
        Assert.Equal(0, f.DataOffset % 64);
        Assert.Equal(values.Length + 1, f.Metadata.Count);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal($"test.v{i}", f.Metadata[i + 1].Key);
            AssertSameValue(values[i], f.Get($"test.v{i}")!);
        }

        Assert.Equal(tensors.Select(t => t.Name), f.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var info = f.Tensor(t.Name)!;
            Assert.Equal(t.Type, info.Type);
            Assert.Equal(t.Dims, info.Dims);
            Assert.Equal(0, (info.Offset - f.DataOffset) % 64);
            Assert.Equal(t.Data, f.TensorAttr(info).Storage.Span.ToArray());
        }

        Assert.Equal("tensor<2x2x2xbf16>", f.TensorAttr(f.Tensor("bf16")!).Type.Text);
        Assert.Equal("tensor<2x1x1x32x!ggml.q4_0>", f.TensorAttr(f.Tensor("q4_0")!).Type.Text);
    }

    [Fact]
    public void WriterRefusesInconsistentInput()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.Add("k", new GgufValue(GgufValueType.U32, 5)));          // an int, not a uint
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValues.Array(GgufValueType.U8, [GgufValues.I8(1)])));
        w.Add("k", GgufValues.U32(5));
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValues.U32(6)));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.Q8_0, [33], new byte[34]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [4], new byte[12]));
        w.AddTensor("t", GgmlType.F32, [1], new byte[4]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [1], new byte[4]));
    }

    [Fact]
    public void QuantizersFollowGgmlReference()
    {
        var x = Enumerable.Range(0, 32).Select(i => (i - 12) * 0.25f).ToArray(); // max |x| = 19 * 0.25 at i = 31
        var q8 = new byte[34];
        GgmlQuantize.QuantizeQ8_0(x, q8);
        float d8 = (float)BitConverter.ToHalf(q8, 0);
        Assert.Equal((float)(Half)(4.75f / 127), d8);
        Assert.Equal(127, (sbyte)q8[2 + 31]);
        Assert.Equal(-80, (sbyte)q8[2 + 0]);   // -3 / (4.75 / 127) = -80.2
        var q4 = new byte[18];
        GgmlQuantize.QuantizeQ4_0(x, q4);
        float d4 = (float)BitConverter.ToHalf(q4, 0);
        Assert.Equal((float)(Half)(4.75f / -8), d4);
        Assert.Equal(0, q4[2 + 15] >> 4);                  // x[31] = max maps to -8 + 8 = 0
        Assert.Equal(8, q4[2 + 12] & 0xF);                 // x[12] = 0 maps to 8
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    public void QuantizersMatchLlamaQuantizeByteForByte(string type)
    {
        using var f = GgufFile.Open(Data("quant-ref.gguf"));
        var src = f.Tensor("blk.0.attn_v.weight.f32")!;
        var want = f.Tensor($"blk.0.attn_v.weight.{type}")!;
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(f.TensorAttr(src).Storage.Span).ToArray();
        var mine = new byte[want.ByteSize];
        GgmlQuantize.Encode(want.Type, floats, mine);
        Assert.True(mine.AsSpan().SequenceEqual(f.TensorAttr(want).Storage.Span));
    }
}
