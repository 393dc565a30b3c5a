using System.Diagnostics;
using Tessera.Gguf;

namespace Tessera.Tests.Gguf;

/// <summary><c>tessera gen</c> and <c>tessera inspect x.gguf</c> through the real executable.</summary>
public sealed partial class GgufReaderTests
{
    private static (int Code, string Out, string Err) Tessera(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tessera.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    private static string[] GenArgs(string arch, string type, int seed, string output) =>
        ["gen", "--arch", arch, "--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads", "2", "--intermediate", "96",
         "--vocab", "50", "--context", "64", "--type", type, "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", output];

    [Fact]
    public void GenWritesAModelThatReadsBack()
    {
        var path = Path.Combine(_dir, "tiny.gguf");
        var (code, _, err) = Tessera(GenArgs("qwen2", "q8_0", 7, path));
        Assert.True(code == 0, err);
        using var f = GgufFile.Open(path);
        Assert.Equal("qwen2", f.Get("general.architecture")!.AsString());
        Assert.Equal(2, f.Get("qwen2.block_count")!.AsLong());
        Assert.Equal(64, f.Get("qwen2.context_length")!.AsLong());
        Assert.Equal(64, f.Get("qwen2.embedding_length")!.AsLong());
        Assert.Equal(96, f.Get("qwen2.feed_forward_length")!.AsLong());
        Assert.Equal(4, f.Get("qwen2.attention.head_count")!.AsLong());
        Assert.Equal(2, f.Get("qwen2.attention.head_count_kv")!.AsLong());
        Assert.Equal(50, f.Get("qwen2.vocab_size")!.AsLong());
        Assert.Equal(1e6, f.Get("qwen2.rope.freq_base")!.AsDouble());
        Assert.Equal(1e-6f, (float)f.Get("qwen2.attention.layer_norm_rms_epsilon")!.AsDouble());
        Assert.Equal(3 + 2 * 12, f.Tensors.Count);
        Assert.Equal("tensor<50x64x!ggml.q8_0>", f.TensorAttr(f.Tensor("token_embd.weight")!).Type.Text);
        Assert.Equal("tensor<32x64x!ggml.q8_0>", f.TensorAttr(f.Tensor("blk.1.attn_k.weight")!).Type.Text);
        Assert.Equal("tensor<64x96x!ggml.q8_0>", f.TensorAttr(f.Tensor("blk.0.ffn_down.weight")!).Type.Text);
        Assert.Equal("tensor<32xf32>", f.TensorAttr(f.Tensor("blk.0.attn_v.bias")!).Type.Text);
        Assert.Equal("tensor<50x64x!ggml.q8_0>", f.TensorAttr(f.Tensor("output.weight")!).Type.Text);
        var norm = f.TensorAttr(f.Tensor("output_norm.weight")!);
        var values = Enumerable.Range(0, 64).Select(i => norm.GetDouble(i)).ToArray();
        Assert.InRange(values.Average(), 0.9, 1.1);
        Assert.True(values.Distinct().Count() > 1);

        // Q8_0 blocks decode to small random weights: |d * q| within a few standard deviations (0.02).
        var q = f.TensorAttr(f.Tensor("blk.0.attn_q.weight")!).Storage.Span;
        float d = (float)BitConverter.ToHalf(q[..2]);
        Assert.InRange(d, 0.02f / 127, 0.2f / 127);

        // Same seed, same bytes; another seed, other weights; llama has no biases.
        var again = Path.Combine(_dir, "again.gguf");
        Assert.Equal(0, Tessera(GenArgs("qwen2", "q8_0", 7, again)).Code);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
        var other = Path.Combine(_dir, "other.gguf");
        Assert.Equal(0, Tessera(GenArgs("llama", "q4_0", 8, other)).Code);
        using var l = GgufFile.Open(other);
        Assert.Equal(3 + 2 * 9, l.Tensors.Count);
        Assert.Equal(GgmlType.Q4_0, l.Tensor("blk.0.ffn_up.weight")!.Type);
        Assert.Equal(1e4, l.Get("llama.rope.freq_base")!.AsDouble());
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    public void GenFloatTypesInProcess(string type)
    {
        var path = Path.Combine(_dir, $"m-{type}.gguf");
        var t = type == "f32" ? GgmlType.F32 : GgmlType.F16;
        SyntheticModel.Write(new SyntheticModelOptions("llama", 1, 32, 2, 1, 64, 10, 16, t, 1), path);
        using var f = GgufFile.Open(path);
        var w = f.TensorAttr(f.Tensor("blk.0.attn_k.weight")!);
        Assert.Equal($"tensor<16x32x{type}>", w.Type.Text);
        var xs = Enumerable.Range(0, 16 * 32).Select(i => w.GetDouble(i)).ToArray();
        double std = Math.Sqrt(xs.Select(x => x * x).Average());
        Assert.InRange(std, 0.015, 0.025);
    }

    [Fact]
    public void GenRejectsBadShapes()
    {
        var (code, _, err) = Tessera("gen", "--arch", "llama", "--layers", "1", "--hidden", "48", "--heads", "4", "--kv-heads", "2",
            "--intermediate", "64", "--vocab", "8", "--type", "q4_0", "-o", Path.Combine(_dir, "x.gguf"));
        Assert.Equal(1, code);
        Assert.Contains(GgufCodes.BadShape, err);
        (code, _, err) = Tessera(GenArgs("gpt2", "f32", 1, Path.Combine(_dir, "y.gguf")));
        Assert.Equal(1, code);
        Assert.Contains(GgufCodes.UnknownArchitecture, err);
        Assert.False(File.Exists(Path.Combine(_dir, "x.gguf")));
    }

    [Fact]
    public void InspectDescribesAGgufFile()
    {
        var (code, output, err) = Tessera("inspect", Data("llama/llama-Q4_K_M.gguf"));
        Assert.True(code == 0, err);
        Assert.Contains("GGUF v3, alignment 32", output);
        Assert.Contains("architecture llama", output);
        Assert.Contains("llama.attention.head_count_kv = 2", output);
        Assert.Contains("tokenizer.ggml.tokens = [string x 512]", output);
        Assert.Contains("tokenizer.ggml.scores = [f32 x 512]", output);
        Assert.Matches(@"token_embd\.weight\s+Q4_K\s+512x256\s+73728", output);
        Assert.Contains("total: 21 tensors", output);

        var bad = Save(new byte[] { (byte)'G', (byte)'G', (byte)'U', (byte)'F', 1, 0, 0, 0 }, "v1.gguf");
        (code, _, err) = Tessera("inspect", bad);
        Assert.Equal(1, code);
        Assert.Contains($"error {GgufCodes.BadVersion}", err);
    }
}
