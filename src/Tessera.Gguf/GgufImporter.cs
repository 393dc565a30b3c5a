using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.Gguf.Architectures;

namespace Tessera.Gguf;

/// <summary>
/// GGUF model → <c>builtin.module { func.func @prefill, func.func @decode }</c> of graph ops, built from the file's
/// <c>general.architecture</c> and its <c>&lt;arch&gt;.*</c> hyper-parameters. Weights are arith.constant of the
/// memory-mapped tensors, followed by graph.dequantize_ggml (block types) or graph.cast (f16/bf16) to f32.
/// <para>@prefill(tokens: 1×{seq} i64) → (logits 1×{seq}×V f32, k_cache_0, v_cache_0, ...): the caches are the
/// layer's keys (after rope) and values at positions 0..seq-1, zero-padded to the context length C.</para>
/// <para>@decode(token: 1×1 i64, position: [1] i64, k_cache_0, v_cache_0, ...) → (logits 1×1×V, updated caches):
/// writes the new key/value at <c>position</c> and attends over positions ≤ position.</para>
/// </summary>
public static class GgufImporter
{
    public static readonly string[] Supported = ["gemma", "gpt2", "llama", "phi3", "qwen2", "qwen3"];

    /// <summary>Imports <paramref name="path"/>; throws <see cref="DiagnosticException"/> (GgufCodes).</summary>
    public static Operation Import(Context ctx, string path) => Import(ctx, path, null);

    /// <summary>As <see cref="Import(Context, string)"/>; <paramref name="contextLength"/> overrides the KV cache length.</summary>
    public static Operation Import(Context ctx, string path, long? contextLength)
    {
        var file = GgufFile.Open(path);
        var arch = file.Get("general.architecture")?.AsString()
            ?? throw GgufCodes.Error(GgufCodes.MissingKey, path, "missing key 'general.architecture'");
        var hp = new HParams(file, arch);
        ArchSpec spec = arch switch
        {
            "llama" => Llama.Spec(hp),
            "qwen2" => Qwen.Spec2(hp),
            "qwen3" => Qwen.Spec3(hp),
            "gemma" => Gemma.Spec(hp),
            "phi3" => Phi3.Spec(hp),
            "gpt2" => Gpt2.Spec(hp),
            _ => throw GgufCodes.Error(GgufCodes.UnknownArchitecture, path,
                $"architecture '{arch}' is not supported; supported: {string.Join(", ", Supported)}"),
        };
        if (contextLength is long c)
        {
            spec = spec with { Context = c };
        }

        var module = Operation.Create(ctx, new OperationState("builtin.module", new NameLoc(path)) { NumRegions = 1 });
        var body = module.Regions[0].AddBlock();
        var weights = new Weights(file);
        new TransformerBuilder(ctx, body, spec, weights, decode: false).Build();
        new TransformerBuilder(ctx, body, spec, weights, decode: true).Build();
        return module;
    }
}

/// <summary>Typed access to the <c>&lt;arch&gt;.*</c> keys; a missing required key is a MissingKey diagnostic.</summary>
public sealed class HParams(GgufFile file, string arch)
{
    public GgufFile File { get; } = file;
    public string Arch { get; } = arch;

    public GgufValue? Opt(string key) => File.Get(Arch + "." + key);

    public long Int(string key) => Opt(key)?.AsLong()
        ?? throw GgufCodes.Error(GgufCodes.MissingKey, File.Path, $"missing key '{Arch}.{key}'");

    public long Int(string key, long def) => Opt(key)?.AsLong() ?? def;

    public double Float(string key) => Opt(key)?.AsDouble()
        ?? throw GgufCodes.Error(GgufCodes.MissingKey, File.Path, $"missing key '{Arch}.{key}'");

    public double Float(string key, double def) => Opt(key)?.AsDouble() ?? def;

    /// <summary>The common attention shape keys, filled into a spec with the given defaults for the rest.</summary>
    public ArchSpec Base(NormKind norm, RopeKind rope, string epsKey)
    {
        long hidden = Int("embedding_length");
        long heads = Int("attention.head_count");
        long headDim = Int("attention.key_length", hidden / Math.Max(heads, 1));
        return new ArchSpec(Arch, File)
        {
            Layers = Int("block_count"),
            Hidden = hidden,
            Heads = heads,
            KvHeads = Int("attention.head_count_kv", heads),
            HeadDim = headDim,
            Context = Int("context_length"),
            Epsilon = Float(epsKey),
            Norm = norm,
            Rope = rope,
            RopeBase = Float("rope.freq_base", 10000),
            RopeDims = Int("rope.dimension_count", headDim),
        };
    }
}

/// <summary>The tensors of the file, each imported once per function; f32 after dequantize/cast.</summary>
public sealed class Weights(GgufFile file)
{
    private readonly Dictionary<string, DenseElementsAttr> _attrs = new(StringComparer.Ordinal);

    public GgufFile File { get; } = file;

    public bool Has(string name) => File.Tensor(name) is not null;

    public GgufTensorInfo Info(string name) => File.Tensor(name)
        ?? throw GgufCodes.Error(GgufCodes.MissingTensor, File.Path, $"missing tensor '{name}'");

    public DenseElementsAttr Attr(string name)
    {
        if (!_attrs.TryGetValue(name, out var a))
        {
            a = File.TensorAttr(Info(name));
            _attrs[name] = a;
        }

        return a;
    }
}
