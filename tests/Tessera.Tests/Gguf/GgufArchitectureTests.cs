using System.Globalization;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.Gguf;
using Tessera.Onnx;
using Xunit.Abstractions;

namespace Tessera.Tests.Gguf;

/// <summary>
/// The architectures without corpus files (and llama with tied embeddings): a tiny seeded-random F32 model per
/// architecture, written with <see cref="GgufWriter"/> under llama.cpp's tensor names and keys, imported and run.
/// Checks: the module verifies; @prefill gives finite logits of the right shape; @decode with the returned caches
/// reproduces prefill; the logits match a plain double-precision forward pass written here from llama.cpp's graph for
/// the architecture (not from the importer); phi3's fused tensors give the same logits as the split weights in a qwen2 file.
/// </summary>
public class GgufArchitectureTests(ITestOutputHelper output)
{
    private const int Layers = 2, Hidden = 64, Heads = 4, Inter = 128, Vocab = 32, Ctx = 32;

    private enum Rope { None, Norm, Neox }

    /// <summary>How llama.cpp builds the architecture's graph; the reference forward pass follows it.</summary>
    private sealed record Spec(string Arch, int KvHeads, int HeadDim, double Eps, Rope Rope, double RopeBase)
    {
        public bool LayerNorm { get; init; }           // layer norms with bias (gpt2), else rms norms
        public bool Tied { get; init; }                // no output.weight: logits use token_embd
        public bool QkNorm { get; init; }              // qwen3: per-head rms norms of q and k before rope
        public bool FusedQkv { get; init; }            // phi3, gpt2: attn_qkv = [q; k; v]
        public bool FusedGateUp { get; init; }         // phi3: ffn_up = [gate; up]
        public bool Gelu { get; init; }                // activation gelu (tanh) instead of silu
        public bool Gated { get; init; } = true;       // act(gate)·up, else act(up) (gpt2)
        public bool Biases { get; init; }              // gpt2: every linear and norm has a bias
        public bool Positions { get; init; }           // gpt2: position_embd
        public double EmbedScale { get; init; } = 1;   // gemma: √hidden
        public bool KeyLength { get; init; }           // write attention.key_length / value_length (head dim ≠ hidden / heads)
    }

    private static readonly Dictionary<string, Spec> Specs = new()
    {
        ["llama"] = new("llama", 2, 16, 1e-5, Rope.Norm, 1e4) { Tied = true },
        ["qwen3"] = new("qwen3", 2, 32, 1e-6, Rope.Neox, 1e6) { QkNorm = true, KeyLength = true },   // head_dim ≠ hidden / heads, as in Qwen3-0.6B
        ["gemma"] = new("gemma", 2, 32, 1e-6, Rope.Norm, 1e4) { Tied = true, Gelu = true, EmbedScale = Math.Sqrt(Hidden), KeyLength = true },
        ["phi3"] = new("phi3", 2, 16, 1e-5, Rope.Neox, 1e4) { FusedQkv = true, FusedGateUp = true },
        ["gpt2"] = new("gpt2", Heads, 16, 1e-5, Rope.None, 0)
        {
            LayerNorm = true, FusedQkv = true, Gelu = true, Gated = false, Biases = true, Positions = true,
        },
    };

    public static IEnumerable<object[]> Archs() => Specs.Keys.Select(a => new object[] { a });

    private static readonly long[] Tokens = [3, 17, 0, 31, 8, 8, 22, 5];

    /// <summary>Weights in IR layout ([out, in] for matrices), split q/k/v and gate/up, keyed by llama.cpp tensor name.</summary>
    private static Dictionary<string, (long[] Shape, float[] Data)> RandomWeights(Spec s, int seed)
    {
        var rng = new Random(seed);
        var w = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
        void T(string name, float mean, float std, params long[] shape)
        {
            var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = mean + (std * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())));
            }

            w[name] = (shape, data);
        }

        void Norm(string name)
        {
            T(name + ".weight", 1f, 0.1f, Hidden);
            if (s.Biases)
            {
                T(name + ".bias", 0f, 0.05f, Hidden);
            }
        }

        void Linear(string name, long rows, long cols)
        {
            T(name + ".weight", 0f, 0.15f, rows, cols);
            if (s.Biases)
            {
                T(name + ".bias", 0f, 0.05f, rows);
            }
        }

        long qDim = Heads * s.HeadDim, kvDim = s.KvHeads * s.HeadDim;
        T("token_embd.weight", 0f, 0.5f, Vocab, Hidden);
        if (s.Positions)
        {
            T("position_embd.weight", 0f, 0.2f, Ctx, Hidden);
        }

        for (int l = 0; l < Layers; l++)
        {
            string p = $"blk.{l}.";
            Norm(p + "attn_norm");
            Linear(p + "attn_q", qDim, Hidden);
            Linear(p + "attn_k", kvDim, Hidden);
            Linear(p + "attn_v", kvDim, Hidden);
            if (s.QkNorm)
            {
                T(p + "attn_q_norm.weight", 1f, 0.1f, s.HeadDim);
                T(p + "attn_k_norm.weight", 1f, 0.1f, s.HeadDim);
            }

            Linear(p + "attn_output", Hidden, qDim);
            Norm(p + "ffn_norm");
            if (s.Gated)
            {
                Linear(p + "ffn_gate", Inter, Hidden);
            }

            Linear(p + "ffn_up", Inter, Hidden);
            Linear(p + "ffn_down", Hidden, Inter);
        }

        Norm("output_norm");
        if (!s.Tied)
        {
            T("output.weight", 0f, 0.15f, Vocab, Hidden);   // no output.bias, as in llama.cpp's files
        }

        return w;
    }

    /// <summary>Writes the weights as a GGUF of architecture <paramref name="arch"/>, fusing q/k/v and gate/up where <paramref name="s"/> says.</summary>
    private static string WriteGguf(string arch, Spec s, Dictionary<string, (long[] Shape, float[] Data)> weights, bool zeroQkvBias = false)
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValues.String(arch));
        w.Add("general.name", GgufValues.String($"tessera-test-{arch}"));
        w.Add("general.file_type", GgufValues.U32(0));
        w.Add($"{arch}.block_count", GgufValues.U32(Layers));
        w.Add($"{arch}.context_length", GgufValues.U32(Ctx));
        w.Add($"{arch}.embedding_length", GgufValues.U32(Hidden));
        w.Add($"{arch}.feed_forward_length", GgufValues.U32(Inter));
        w.Add($"{arch}.attention.head_count", GgufValues.U32(Heads));
        w.Add($"{arch}.attention.head_count_kv", GgufValues.U32((uint)s.KvHeads));
        w.Add($"{arch}.attention.{(s.LayerNorm ? "layer_norm_epsilon" : "layer_norm_rms_epsilon")}", GgufValues.F32((float)s.Eps));
        if (s.KeyLength)
        {
            w.Add($"{arch}.attention.key_length", GgufValues.U32((uint)s.HeadDim));
            w.Add($"{arch}.attention.value_length", GgufValues.U32((uint)s.HeadDim));
        }

        if (s.Rope != Rope.None)
        {
            w.Add($"{arch}.rope.freq_base", GgufValues.F32((float)s.RopeBase));
            w.Add($"{arch}.rope.dimension_count", GgufValues.U32((uint)s.HeadDim));
        }

        var fused = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name, long[] shape, float[] data) =>
            w.AddTensor(name, GgmlType.F32, shape.Reverse().ToArray(), data.SelectMany(BitConverter.GetBytes).ToArray());
        void Fuse(string name, params string[] parts)
        {
            foreach (var suffix in new[] { ".weight", ".bias" })
            {
                if (!weights.ContainsKey(parts[0] + suffix))
                {
                    continue;
                }

                var ps = parts.Select(p => weights[p + suffix]).ToList();
                long rows = ps.Sum(p => p.Shape[0]);
                Add(name + suffix, ps[0].Shape.Length == 1 ? [rows] : [rows, ps[0].Shape[1]], ps.SelectMany(p => p.Data).ToArray());
                fused.UnionWith(parts.Select(p => p + suffix));
            }
        }

        for (int l = 0; l < Layers; l++)
        {
            string p = $"blk.{l}.";
            if (s.FusedQkv)
            {
                Fuse(p + "attn_qkv", p + "attn_q", p + "attn_k", p + "attn_v");
            }

            if (s.FusedGateUp)
            {
                Fuse(p + "ffn_up", p + "ffn_gate", p + "ffn_up");
            }

            if (zeroQkvBias)
            {
                foreach (var t in new[] { "attn_q", "attn_k", "attn_v" })
                {
                    Add(p + t + ".bias", [weights[p + t + ".weight"].Shape[0]], new float[weights[p + t + ".weight"].Shape[0]]);
                }
            }
        }

        foreach (var (name, (shape, data)) in weights)
        {
            if (!fused.Contains(name))
            {
                Add(name, shape, data);
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"tessera-{arch}-{Guid.NewGuid():N}.gguf");
        w.Write(path);
        return path;
    }

    private static Operation Func(Operation module, string name) =>
        module.Regions[0].Operations.Single(o => o.Name == "func.func" && SymbolTable.GetName(o) == name);

    private static NDArray Ids(params long[] ids) => NDArray.Create(IntegerType.I64, [1, ids.Length], ids);

    private static Operation Import(string path)
    {
        try
        {
            return GgufImporter.Import(Contexts.CreateDefault(), path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void ImportsVerifiesAndMatchesReference(string arch)
    {
        var s = Specs[arch];
        var weights = RandomWeights(s, seed: arch.Length * 7919);
        var module = Import(WriteGguf(arch, s, weights));

        var diags = new DiagnosticBag();
        Assert.True(Verifier.Verify(module, diags), diags.Render());
        if (s.Tied)
        {
            Assert.DoesNotContain("output.weight", Printer.PrintOp(module));
        }

        var logits = GraphEvaluator.Run(Func(module, "prefill"), [Ids(Tokens)])[0];
        Assert.Equal([1L, Tokens.Length, Vocab], logits.Shape);
        Assert.All(logits.F!, v => Assert.True(double.IsFinite(v)));

        var want = Reference(s, weights, Tokens);
        double max = logits.F!.Zip(want, (a, b) => Math.Abs(a - b)).Max();
        double scale = want.Max(Math.Abs);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{arch}: max |tessera - reference| = {max:G3}, max |logit| = {scale:G3}"));
        Assert.True(max < 1e-4, $"{arch}: max |tessera - reference| = {max}");
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void DecodeWithKvCacheReproducesPrefill(string arch)
    {
        var s = Specs[arch];
        var module = Import(WriteGguf(arch, s, RandomWeights(s, seed: 11)));
        var prefill = Func(module, "prefill");
        var decode = Func(module, "decode");
        var full = GraphEvaluator.Run(prefill, [Ids(Tokens)])[0].F!;

        var first = GraphEvaluator.Run(prefill, [Ids(Tokens[..4])]);
        Assert.Equal(2 * Layers, first.Count - 1);
        Assert.All(first.Skip(1), c => Assert.Equal([1L, s.KvHeads, Ctx, s.HeadDim], c.Shape));
        AssertClose(first[0].F!, full[..(4 * Vocab)], "prefill of 4 tokens");
        var caches = first.Skip(1).ToList();
        for (int t = 4; t < Tokens.Length; t++)
        {
            var outs = GraphEvaluator.Run(decode, [Ids(Tokens[t]), NDArray.Create(IntegerType.I64, [1], [(long)t]), .. caches]);
            Assert.Equal([1L, 1, Vocab], outs[0].Shape);
            AssertClose(outs[0].F!, full[(t * Vocab)..((t + 1) * Vocab)], $"{arch} decode at position {t}");
            caches = outs.Skip(1).ToList();
        }
    }

    /// <summary>phi3's attn_qkv = [q; k; v] and ffn_up = [gate; up] give the logits of the split weights in a qwen2 file (same NEOX rope, zero q/k/v biases).</summary>
    [Fact]
    public void Phi3FusedWeightsMatchQwen2SplitWeights()
    {
        var s = Specs["phi3"];
        var weights = RandomWeights(s, seed: 5);
        var phi3 = GraphEvaluator.Run(Func(Import(WriteGguf("phi3", s, weights)), "prefill"), [Ids(Tokens)])[0].F!;
        var split = s with { FusedQkv = false, FusedGateUp = false };
        var qwen2 = GraphEvaluator.Run(Func(Import(WriteGguf("qwen2", split, weights, zeroQkvBias: true)), "prefill"), [Ids(Tokens)])[0].F!;
        AssertClose(phi3, qwen2, "phi3 vs qwen2", 1e-5);
    }

    private static void AssertClose(double[] got, double[] want, string what, double atol = 1e-4)
    {
        Assert.Equal(want.Length, got.Length);
        double max = got.Select((g, i) => Math.Abs(g - want[i])).Max();
        Assert.True(max <= atol, $"{what}: max abs diff {max} > {atol}");
    }

    /// <summary>
    /// A double-precision forward pass written from llama.cpp's graphs (llm_build_llama / qwen3 / gemma / phi3 / gpt2):
    /// embeddings (× √hidden for gemma, + positions for gpt2); per layer x += attn(norm(x)), x += ffn(norm(x)); logits
    /// = output(norm(x)). Rope NORM rotates adjacent pairs (2i, 2i+1), NEOX pairs (i, i + n/2), by p·base^(-2i/n);
    /// query head h reads kv head h / (heads / kv_heads). Norm weights are used as stored (llama.cpp's convention;
    /// gemma's +1 is added by convert_hf_to_gguf).
    /// </summary>
    private static double[] Reference(Spec s, Dictionary<string, (long[] Shape, float[] Data)> w, long[] tokens)
    {
        int n = tokens.Length, d = s.HeadDim, hkv = s.KvHeads, group = Heads / hkv;
        float[] W(string name) => w[name].Data;
        float[]? B(string name) => w.TryGetValue(name, out var t) ? t.Data : null;

        double[] Linear(double[] x, string name)
        {
            var m = w[name + ".weight"];
            long rows = m.Shape[0], cols = m.Shape[1];
            var bias = B(name + ".bias");
            var y = new double[rows];
            for (long r = 0; r < rows; r++)
            {
                double acc = bias?[r] ?? 0;
                for (long c = 0; c < cols; c++)
                {
                    acc += m.Data[(r * cols) + c] * x[c];
                }

                y[r] = acc;
            }

            return y;
        }

        double[] Norm(double[] x, float[] g, float[]? b)
        {
            double mean = s.LayerNorm ? x.Average() : 0;
            double var = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
            double inv = 1 / Math.Sqrt(var + s.Eps);
            return x.Select((v, i) => ((v - mean) * inv * g[i]) + (b?[i] ?? 0)).ToArray();
        }

        double[] NormNamed(double[] x, string name) => Norm(x, W(name + ".weight"), B(name + ".bias"));

        void RopeHeads(double[] v, int heads, int pos)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < d / 2; i++)
                {
                    double theta = pos * Math.Pow(s.RopeBase, -2.0 * i / d);
                    int a = (h * d) + (s.Rope == Rope.Norm ? 2 * i : i), b = a + (s.Rope == Rope.Norm ? 1 : d / 2);
                    double x0 = v[a], x1 = v[b];
                    v[a] = (x0 * Math.Cos(theta)) - (x1 * Math.Sin(theta));
                    v[b] = (x0 * Math.Sin(theta)) + (x1 * Math.Cos(theta));
                }
            }
        }

        void QkNorm(double[] v, int heads, float[] g)
        {
            for (int h = 0; h < heads; h++)
            {
                var y = Norm(v[(h * d)..((h + 1) * d)], g, null);
                Array.Copy(y, 0, v, h * d, d);
            }
        }

        double Gelu(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));
        double Silu(double x) => x / (1 + Math.Exp(-x));

        var xs = new double[n][];
        for (int t = 0; t < n; t++)
        {
            xs[t] = new double[Hidden];
            for (int c = 0; c < Hidden; c++)
            {
                xs[t][c] = (W("token_embd.weight")[(tokens[t] * Hidden) + c] * s.EmbedScale) + (s.Positions ? W("position_embd.weight")[(t * Hidden) + c] : 0);
            }
        }

        for (int l = 0; l < Layers; l++)
        {
            string p = $"blk.{l}.";
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int t = 0; t < n; t++)
            {
                var h = NormNamed(xs[t], p + "attn_norm");
                (q[t], k[t], v[t]) = (Linear(h, p + "attn_q"), Linear(h, p + "attn_k"), Linear(h, p + "attn_v"));
                if (s.QkNorm)
                {
                    QkNorm(q[t], Heads, W(p + "attn_q_norm.weight"));
                    QkNorm(k[t], hkv, W(p + "attn_k_norm.weight"));
                }

                if (s.Rope != Rope.None)
                {
                    RopeHeads(q[t], Heads, t);
                    RopeHeads(k[t], hkv, t);
                }
            }

            for (int t = 0; t < n; t++)
            {
                var o = new double[Heads * d];
                for (int h = 0; h < Heads; h++)
                {
                    int kh = h / group;
                    var scores = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        for (int e = 0; e < d; e++)
                        {
                            scores[j] += q[t][(h * d) + e] * k[j][(kh * d) + e];
                        }

                        scores[j] /= Math.Sqrt(d);
                    }

                    double max = scores.Max();
                    var ps = scores.Select(z => Math.Exp(z - max)).ToArray();
                    double sum = ps.Sum();
                    for (int j = 0; j <= t; j++)
                    {
                        for (int e = 0; e < d; e++)
                        {
                            o[(h * d) + e] += ps[j] / sum * v[j][(kh * d) + e];
                        }
                    }
                }

                var attn = Linear(o, p + "attn_output");
                for (int c = 0; c < Hidden; c++)
                {
                    xs[t][c] += attn[c];
                }
            }

            for (int t = 0; t < n; t++)
            {
                var h = NormNamed(xs[t], p + "ffn_norm");
                var up = Linear(h, p + "ffn_up");
                double[] act;
                if (s.Gated)
                {
                    var gate = Linear(h, p + "ffn_gate");
                    act = gate.Select((g, i) => (s.Gelu ? Gelu(g) : Silu(g)) * up[i]).ToArray();
                }
                else
                {
                    act = up.Select(u => s.Gelu ? Gelu(u) : Silu(u)).ToArray();
                }

                var down = Linear(act, p + "ffn_down");
                for (int c = 0; c < Hidden; c++)
                {
                    xs[t][c] += down[c];
                }
            }
        }

        var logits = new List<double>();
        foreach (var x in xs)
        {
            logits.AddRange(Linear(NormNamed(x, "output_norm"), s.Tied ? "token_embd" : "output"));
        }

        return logits.ToArray();
    }
}
