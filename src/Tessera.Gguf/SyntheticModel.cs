namespace Tessera.Gguf;

/// <summary>The shape of a model <c>tessera gen</c> writes.</summary>
public sealed record SyntheticModelOptions(string Arch, int Layers, int Hidden, int Heads, int KvHeads, int Intermediate,
    int Vocab, int Context, GgmlType Type, ulong Seed);

/// <summary>
/// Writes a llama- or qwen2-architecture GGUF with llama.cpp's tensor names and <c>&lt;arch&gt;.*</c> keys and seeded
/// random weights. Tensors are generated row by row while the file is written, so model size is bounded only by disk.
/// Matrices use <see cref="SyntheticModelOptions.Type"/>; norms and biases stay F32, as llama.cpp's converters keep them.
/// </summary>
public static class SyntheticModel
{
    public static readonly IReadOnlyList<string> Architectures = ["llama", "qwen2"];
    public static readonly IReadOnlyList<GgmlType> Types = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0];

    public static void Write(SyntheticModelOptions o, string path)
    {
        var w = Build(o, path);
        var tmp = path + ".tmp";
        try
        {
            w.Write(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    /// <summary>A writer for the model, its tensors not yet generated. <paramref name="path"/> only names the file in diagnostics.</summary>
    public static GgufWriter Build(SyntheticModelOptions o, string path = "<gen>")
    {
        Validate(o, path);
        int headDim = o.Hidden / o.Heads, kvDim = o.KvHeads * headDim;
        string a = o.Arch;
        bool qwen = a == "qwen2";
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValues.String(a));
        w.Add("general.type", GgufValues.String("model"));
        w.Add("general.name", GgufValues.String($"tessera-synthetic-{a}"));
        w.Add($"{a}.block_count", GgufValues.U32((uint)o.Layers));
        w.Add($"{a}.context_length", GgufValues.U32((uint)o.Context));
        w.Add($"{a}.embedding_length", GgufValues.U32((uint)o.Hidden));
        w.Add($"{a}.feed_forward_length", GgufValues.U32((uint)o.Intermediate));
        w.Add($"{a}.attention.head_count", GgufValues.U32((uint)o.Heads));
        w.Add($"{a}.attention.head_count_kv", GgufValues.U32((uint)o.KvHeads));
        w.Add($"{a}.rope.freq_base", GgufValues.F32(qwen ? 1e6f : 1e4f));
        w.Add($"{a}.attention.layer_norm_rms_epsilon", GgufValues.F32(qwen ? 1e-6f : 1e-5f));
        w.Add($"{a}.rope.dimension_count", GgufValues.U32((uint)headDim));
        w.Add($"{a}.vocab_size", GgufValues.U32((uint)o.Vocab));
        w.Add("general.file_type", GgufValues.U32(o.Type switch { GgmlType.F32 => 0, GgmlType.F16 => 1, GgmlType.Q4_0 => 2, _ => 7 }));
        if (GgmlTypes.IsQuantized(o.Type))
        {
            w.Add("general.quantization_version", GgufValues.U32(2));
        }

        int index = 0;
        void Matrix(string name, int cols, int rows) => Add(w, o, index++, name, o.Type, [cols, rows], 0.02f, 0f);
        void Vector(string name, int n, float mean) => Add(w, o, index++, name, GgmlType.F32, [n], 0.02f, mean);

        Matrix("token_embd.weight", o.Hidden, o.Vocab);
        for (int l = 0; l < o.Layers; l++)
        {
            string p = $"blk.{l}.";
            Vector(p + "attn_norm.weight", o.Hidden, 1f);
            Matrix(p + "attn_q.weight", o.Hidden, o.Hidden);
            Matrix(p + "attn_k.weight", o.Hidden, kvDim);
            Matrix(p + "attn_v.weight", o.Hidden, kvDim);
            if (qwen)
            {
                Vector(p + "attn_q.bias", o.Hidden, 0f);
                Vector(p + "attn_k.bias", kvDim, 0f);
                Vector(p + "attn_v.bias", kvDim, 0f);
            }

            Matrix(p + "attn_output.weight", o.Hidden, o.Hidden);
            Vector(p + "ffn_norm.weight", o.Hidden, 1f);
            Matrix(p + "ffn_gate.weight", o.Hidden, o.Intermediate);
            Matrix(p + "ffn_up.weight", o.Hidden, o.Intermediate);
            Matrix(p + "ffn_down.weight", o.Intermediate, o.Hidden);
        }

        Vector("output_norm.weight", o.Hidden, 1f);
        Matrix("output.weight", o.Hidden, o.Vocab);
        return w;
    }

    private static void Validate(SyntheticModelOptions o, string path)
    {
        if (!Architectures.Contains(o.Arch))
        {
            throw GgufCodes.Error(GgufCodes.UnknownArchitecture, path, $"architecture {o.Arch} is not one of {string.Join(", ", Architectures)}");
        }

        if (!Types.Contains(o.Type))
        {
            throw GgufCodes.Error(GgufCodes.BadType, path, $"type {o.Type} is not one of {string.Join(", ", Types)}");
        }

        string? bad = o.Layers < 0 ? "--layers must be at least 0"
            : o.Hidden < 1 || o.Heads < 1 || o.KvHeads < 1 || o.Intermediate < 1 || o.Vocab < 1 || o.Context < 1 ? "sizes must be at least 1"
            : o.Hidden % o.Heads != 0 ? $"--hidden {o.Hidden} is not a multiple of --heads {o.Heads}"
            : o.Heads % o.KvHeads != 0 ? $"--heads {o.Heads} is not a multiple of --kv-heads {o.KvHeads}"
            : GgmlTypes.IsQuantized(o.Type) && (o.Hidden % GgmlQuantize.QK != 0 || o.Intermediate % GgmlQuantize.QK != 0)
                ? $"{o.Type} needs --hidden and --intermediate to be multiples of {GgmlQuantize.QK}"
            : null;
        if (bad is not null)
        {
            throw GgufCodes.Error(GgufCodes.BadShape, path, bad);
        }
    }

    private static void Add(GgufWriter w, SyntheticModelOptions o, int index, string name, GgmlType type, long[] dims, float std, float mean)
    {
        int cols = (int)dims[0];
        long rows = dims.Length > 1 ? dims[1] : 1;
        w.AddTensor(name, type, dims, s =>
        {
            var rng = new Rng(o.Seed, index);
            var row = new float[cols];
            var bytes = new byte[GgufWriter.ByteSize(type, [cols])];
            for (long r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    row[c] = mean + std * rng.Gaussian();
                }

                GgmlQuantize.Encode(type, row, bytes);
                s.Write(bytes);
            }
        });
    }

    /// <summary>SplitMix64 seeded by the model seed and the tensor's index; Box-Muller for normals.</summary>
    private sealed class Rng(ulong seed, int stream)
    {
        private ulong _state = seed * 0x9E3779B97F4A7C15UL ^ ((ulong)stream + 1) * 0xD1B54A32D192ED03UL;

        private ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        private double Uniform() => ((Next() >> 11) + 0.5) / (1UL << 53);

        public float Gaussian() => (float)(Math.Sqrt(-2 * Math.Log(Uniform())) * Math.Cos(2 * Math.PI * Uniform()));
    }
}
