using System.CommandLine;
using Tessera.Gguf;

namespace Tessera.Cli;

/// <summary><c>tessera gen --arch llama --layers 2 ... --type q8_0 --seed 1 -o x.gguf</c>: a random-weight GGUF model.</summary>
internal static class GenCommand
{
    public static Command Build()
    {
        Option<int> Int(string name, string description, int? dflt = null)
        {
            var o = new Option<int>(name) { Description = description, Required = dflt is null };
            if (dflt is int d)
            {
                o.DefaultValueFactory = _ => d;
            }

            return o;
        }

        var arch = new Option<string>("--arch") { Description = "Architecture: qwen2 or llama", Required = true };
        var layers = Int("--layers", "Number of transformer blocks");
        var hidden = Int("--hidden", "Embedding (hidden) size");
        var heads = Int("--heads", "Attention heads");
        var kvHeads = Int("--kv-heads", "Key/value heads (grouped-query attention)");
        var inter = Int("--intermediate", "Feed-forward size");
        var vocab = Int("--vocab", "Vocabulary size");
        var context = Int("--context", "Context length", 2048);
        var type = new Option<string>("--type") { Description = "Weight type: f32, f16, q8_0 or q4_0", DefaultValueFactory = _ => "f32" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--output", "-o") { Description = "The .gguf file to write", Required = true };
        var cmd = new Command("gen", "Write a GGUF model of a given architecture and size with seeded random weights");
        foreach (var o in new Option[] { arch, layers, hidden, heads, kvHeads, inter, vocab, context, type, seed, output })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            string path = r.GetValue(output)!;
            string t = r.GetValue(type)!;
            var ggml = SyntheticModel.Types.Select(x => (GgmlType?)x).FirstOrDefault(x => string.Equals(x.ToString(), t, StringComparison.OrdinalIgnoreCase))
                ?? throw GgufCodes.Error(GgufCodes.BadType, path, $"--type {t} is not one of f32, f16, q8_0, q4_0");

            var opts = new SyntheticModelOptions(r.GetValue(arch)!, r.GetValue(layers), r.GetValue(hidden), r.GetValue(heads),
                r.GetValue(kvHeads), r.GetValue(inter), r.GetValue(vocab), r.GetValue(context), ggml, r.GetValue(seed));
            SyntheticModel.Write(opts, path);
            Console.Out.WriteLine($"wrote {path} ({new FileInfo(path).Length} bytes)");
            return 0;
        }));
        return cmd;
    }
}
