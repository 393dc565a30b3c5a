using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Npu.Bundle;

/// <summary>A simulator input bundle (docs/npu/bundle.md): program, descriptors, DRAM image, expected outputs, manifest, .hex images.</summary>
public sealed class NpuBundle
{
    public const string Format = "tessera-npu-bundle";
    public const int Version = 1;

    public required AsmProgram Program { get; init; }
    public required NpuTarget Target { get; init; }

    /// <summary>Initial contents of tensors, by name (inputs and weights); others start as zero.</summary>
    public Dictionary<string, byte[]> Data { get; init; } = [];

    /// <summary>What a run does, in order: NPU kernels (entry points) and host ops. Empty: run entry <c>main</c> once.</summary>
    public List<BundleStep> Steps { get; init; } = [];

    /// <summary>Tessera IR text with one function per host step (written as host.tir), or null when there are none.</summary>
    public string? HostModule { get; init; }

    /// <summary>Expected final contents of output tensors, by name.</summary>
    public Dictionary<string, byte[]> Expected { get; init; } = [];

    public static string Sha256(ReadOnlySpan<byte> b) => Convert.ToHexStringLower(SHA256.HashData(b));

    /// <summary>Bytes of the DRAM image: up to the end of the last tensor, rounded up to whole 32-bit words.</summary>
    public long DramImageBytes => (Program.Tensors.Select(t => t.DramAddress + t.Bytes).DefaultIfEmpty(0).Max() + 3) & ~3L;

    /// <summary>Writes the DRAM image (zero, with each <see cref="Data"/> tensor at its address; a later entry wins where two
    /// overlap) to dram.bin and dram.hex a chunk at a time.</summary>
    private void WriteDramImage(BundleFile bin, BundleFile hex)
    {
        var placed = Data.Select((kv, i) => (Start: Program.Tensors.First(x => x.Name == kv.Key).DramAddress, Bytes: kv.Value, Order: i))
            .OrderBy(p => p.Start).ToList();
        var chunk = new byte[BundleFile.HexChunk];
        long size = DramImageBytes;
        for (long at = 0; at < size; at += chunk.Length)
        {
            int len = (int)Math.Min(chunk.Length, size - at);
            var c = chunk.AsSpan(0, len);
            c.Clear();
            foreach (var p in placed.TakeWhile(p => p.Start < at + len).Where(p => p.Start + p.Bytes.Length > at).OrderBy(p => p.Order))
            {
                long from = Math.Max(at, p.Start), to = Math.Min(at + c.Length, p.Start + p.Bytes.Length);
                p.Bytes.AsSpan((int)(from - p.Start), (int)(to - from)).CopyTo(c[(int)(from - at)..]);
            }

            // Two cores: one writes and hashes the bytes while the other makes, writes and hashes their text.
            Parallel.Invoke(() => bin.Write(chunk.AsSpan(0, len)), () => hex.WriteHex(chunk.AsSpan(0, len), 4));
        }
    }

    public void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(Path.Combine(dir, "expected"));
        var files = new JsonObject();
        void Entry(string rel, (long Bytes, string Sha) f) => files[rel] = new JsonObject { ["bytes"] = f.Bytes, ["sha256"] = f.Sha };
        void Put(string rel, byte[] bytes)
        {
            File.WriteAllBytes(Path.Combine(dir, rel), bytes);
            Entry(rel, (bytes.Length, Sha256(bytes)));
        }

        void Streamed(string rel, Action<BundleFile> write)
        {
            using var f = new BundleFile(Path.Combine(dir, rel));
            write(f);
            Entry(rel, f.Finish());
        }

        var tensorSha = Task.Run(() => Data.ToDictionary(kv => kv.Key, kv => Sha256(kv.Value)));
        var prog = Program.ProgramBytes();
        var dma = Program.DescriptorBytes();
        long dramBytes = DramImageBytes;
        Put("program.bin", prog);
        Put("dma.bin", dma);
        using (var bin = new BundleFile(Path.Combine(dir, "dram.bin")))
        using (var hex = new BundleFile(Path.Combine(dir, "dram.hex")))
        {
            WriteDramImage(bin, hex);
            // Entries in the order the manifest has always listed them (.bin files, then .hex).
            Entry("dram.bin", bin.Finish());
            Put("program.hex", Hex(prog, 16));
            Put("dma.hex", Hex(dma, 4));
            Entry("dram.hex", hex.Finish());
        }

        Streamed("sram.hex", f => f.WriteHex(new byte[Target.SramBytes], 4));
        Streamed("acc.hex", f => f.WriteHex(new byte[Target.AccumulatorBytes], 4));
        if (HostModule is not null)
        {
            Put("host.tir", Encoding.UTF8.GetBytes(HostModule));
        }

        var tensors = new JsonArray();
        foreach (var t in Program.Tensors)
        {
            var o = new JsonObject
            {
                ["name"] = t.Name, ["role"] = t.Role, ["dram"] = t.DramAddress, ["bytes"] = t.Bytes,
                ["shape"] = new JsonArray([.. t.Shape.Select(d => (JsonNode)d)]), ["dtype"] = t.Type,
                ["sha256"] = tensorSha.Result.TryGetValue(t.Name, out var sha) ? sha : null,
            };
            if (Expected.TryGetValue(t.Name, out var e))
            {
                var rel = $"expected/{t.Name}.bin";
                Put(rel, e);
                Put($"expected/{t.Name}.hex", Hex(e, 4));
                o["expected"] = rel;
            }

            tensors.Add(o);
        }

        var manifest = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["target"] = JsonNode.Parse(Target.Json),
            ["entries"] = new JsonObject([.. Program.Entries.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]),
            ["instruction_bytes"] = Instr.Bytes,
            ["descriptor_bytes"] = DmaDescriptor.Bytes,
            ["memories"] = new JsonArray(
                Mem("program", "program.hex", 128, prog.Length / 16),
                Mem("dma", "dma.hex", 32, dma.Length / 4),
                Mem("dram", "dram.hex", 32, dramBytes / 4),
                Mem("sram", "sram.hex", 32, Target.SramBytes / 4),
                Mem("acc", "acc.hex", 32, Target.AccumulatorBytes / 4)),
            ["tensors"] = tensors,
            ["steps"] = new JsonArray([.. Steps.Select(s => (JsonNode)s.ToJson())]),
            ["host_module"] = HostModule is null ? null : "host.tir",
            ["files"] = files,
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static JsonObject Mem(string name, string file, int width, long depth) =>
        new() { ["name"] = name, ["file"] = file, ["word_bits"] = width, ["words"] = depth };

    /// <summary><c>$readmemh</c> text: one word per line, <paramref name="wordBytes"/> little-endian bytes printed most significant first
    /// (a last, partial word padded with zero bytes).</summary>
    public static byte[] Hex(ReadOnlySpan<byte> data, int wordBytes)
    {
        var text = new byte[(data.Length + wordBytes - 1) / wordBytes * (2 * wordBytes + 1)];
        BundleFile.Encode(data, wordBytes, text);
        return text;
    }
}

/// <summary>One step of a compiled model's run: an NPU kernel (<see cref="Kind"/> "npu", <see cref="Name"/> its entry
/// point) or a host op ("host", <see cref="Name"/> the function in host.tir, reading <see cref="Inputs"/> and writing
/// <see cref="Outputs"/>, tensors of the manifest). <see cref="Op"/> and <see cref="Reason"/> say what the step
/// computes and, for a host step, why it is not on the NPU; <see cref="Layer"/> names the source op.</summary>
public sealed record BundleStep(string Kind, string Name, string[] Inputs, string[] Outputs, string Op, string Layer, string? Reason = null)
{
    public JsonObject ToJson() => new()
    {
        ["kind"] = Kind, ["name"] = Name, ["op"] = Op, ["layer"] = Layer,
        ["inputs"] = new JsonArray([.. Inputs.Select(i => (JsonNode)i)]),
        ["outputs"] = new JsonArray([.. Outputs.Select(i => (JsonNode)i)]),
        ["reason"] = Reason,
    };

    public static BundleStep FromJson(JsonElement e) => new(
        e.GetProperty("kind").GetString()!, e.GetProperty("name").GetString()!,
        [.. e.GetProperty("inputs").EnumerateArray().Select(x => x.GetString()!)],
        [.. e.GetProperty("outputs").EnumerateArray().Select(x => x.GetString()!)],
        e.GetProperty("op").GetString()!, e.GetProperty("layer").GetString()!,
        e.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null);
}
