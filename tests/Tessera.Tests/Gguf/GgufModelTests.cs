using System.Globalization;
using System.Text;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.Gguf;
using Tessera.Onnx;
using Xunit.Abstractions;

namespace Tessera.Tests.Gguf;

/// <summary>
/// GGUF files written by llama.cpp's gguf-py / llama-quantize import into @prefill and @decode graphs whose logits match
/// torch run on the same (dequantised) weights; decode with the KV cache reproduces prefill; bad files get coded diagnostics.
/// </summary>
public class GgufModelTests(ITestOutputHelper output)
{
    public static readonly string[] Types = ["f32", "f16", "Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"];

    public static IEnumerable<object[]> Files() =>
        from arch in new[] { "llama", "qwen2" } from type in Types select new object[] { arch, type };

    private static string Dir(string arch) => Path.Combine(Repo.Root, "tests", "data", "gguf", arch);

    private static Operation Func(Operation module, string name) =>
        module.Regions[0].Operations.Single(o => o.Name == "func.func" && SymbolTable.GetName(o) == name);

    [Theory]
    [MemberData(nameof(Files))]
    public void PrefillMatchesTorchOnDequantisedWeights(string arch, string type)
    {
        var dir = Dir(arch);
        var module = GgufImporter.Import(Contexts.CreateDefault(), Path.Combine(dir, $"{arch}-{type}.gguf"));
        var outs = GraphEvaluator.Run(Func(module, "prefill"), [Npy.Read(Path.Combine(dir, "input_ids.npy"))]);
        var logits = outs[0];
        Assert.Equal([1L, 16, 512], logits.Shape);
        var want = Npy.Read(Path.Combine(dir, type == "f32" ? "logits_torch.npy" : $"logits_torch_dequant_{type}.npy"));
        var r = Compare.AllClose(logits, want, 0, 1e-3);
        Assert.True(r.Ok, r.Message);

        var llama = Npy.Read(Path.Combine(dir, $"logits_llamacpp_{type}.npy"));
        double max = logits.F!.Zip(llama.AsDoubles(), (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{arch} {type}: max |tessera - llama.cpp| = {max:G4} (torch-dequant: {r.Message})"));
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void DecodeWithKvCacheReproducesPrefill(string arch)
    {
        var dir = Dir(arch);
        var module = GgufImporter.Import(Contexts.CreateDefault(), Path.Combine(dir, $"{arch}-f32.gguf"));
        var ids = Npy.Read(Path.Combine(dir, "input_ids.npy"));
        var prefill = Func(module, "prefill");
        var decode = Func(module, "decode");
        var full = GraphEvaluator.Run(prefill, [ids])[0];
        long v = full.Shape[2];

        var first = GraphEvaluator.Run(prefill, [NDArray.Create(IntegerType.I64, [1, 8], ids.I!.Take(8).ToArray())]);
        Assert.True(Compare.AllClose(first[0], Rows(full, 0, 8, v), 0, 1e-4).Ok);
        var caches = first.Skip(1).ToList();
        for (int t = 8; t < 16; t++)
        {
            var outs = GraphEvaluator.Run(decode,
                [NDArray.Create(IntegerType.I64, [1, 1], [ids.I![t]]), NDArray.Create(IntegerType.I64, [1], [(long)t]), .. caches]);
            Assert.Equal([1L, 1, v], outs[0].Shape);
            var r = Compare.AllClose(outs[0], Rows(full, t, 1, v), 0, 1e-4);
            Assert.True(r.Ok, $"decode step at position {t}: {r.Message}");
            caches = outs.Skip(1).ToList();
        }
    }

    private static NDArray Rows(NDArray logits, int start, int count, long v) =>
        NDArray.Create(FloatType.F32, [1, count, v], logits.F!.Skip((int)(start * v)).Take((int)(count * v)).ToArray());

    [Fact]
    public void ModuleHasPrefillAndDecodeSignatures()
    {
        var module = GgufImporter.Import(Contexts.CreateDefault(), Path.Combine(Dir("llama"), "llama-Q4_0.gguf"));
        var text = Printer.PrintOp(module);
        Assert.Contains("func.func @prefill(%tokens: tensor<1x{seq}xi64>) -> (tensor<1x{seq}x512xf32>, tensor<1x2x128x64xf32>", text);
        Assert.Contains("func.func @decode(%token: tensor<1x1xi64>, %position: tensor<1xi64>, %k_cache_0: tensor<1x2x128x64xf32>", text);
        Assert.Contains("graph.dequantize_ggml", text);
    }

    [Fact]
    public void UnknownArchitectureIsDiagnosed()
    {
        var path = TinyGguf(("general.architecture", "foo"));
        var e = Assert.Throws<DiagnosticException>(() => GgufImporter.Import(Contexts.CreateDefault(), path));
        Assert.Equal(GgufCodes.UnknownArchitecture, e.Diagnostic.Code);
        Assert.Contains("architecture 'foo' is not supported; supported: gemma, gpt2, llama, phi3, qwen2, qwen3", e.Diagnostic.Message);
    }

    [Fact]
    public void MissingKeyIsDiagnosed()
    {
        var path = TinyGguf(("general.architecture", "llama"));
        var e = Assert.Throws<DiagnosticException>(() => GgufImporter.Import(Contexts.CreateDefault(), path));
        Assert.Equal(GgufCodes.MissingKey, e.Diagnostic.Code);
        Assert.Contains("'llama.", e.Diagnostic.Message);
    }

    /// <summary>A GGUF v3 file with string metadata and no tensors.</summary>
    private static string TinyGguf(params (string Key, string Value)[] kv)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        void Str(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            w.Write((ulong)b.Length);
            w.Write(b);
        }

        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write(0UL);
        w.Write((ulong)kv.Length);
        foreach (var (k, v) in kv)
        {
            Str(k);
            w.Write((uint)GgufValueType.String);
            Str(v);
        }

        while (ms.Length % 32 != 0)
        {
            w.Write((byte)0);
        }

        var path = Path.Combine(Path.GetTempPath(), $"tessera-tiny-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, ms.ToArray());
        return path;
    }
}
