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

    public byte[] DramImage()
    {
        long end = Program.Tensors.Select(t => t.DramAddress + t.Bytes).DefaultIfEmpty(0).Max();
        var img = new byte[(end + 3) & ~3L];
        foreach (var (name, bytes) in Data)
        {
            var t = Program.Tensors.First(x => x.Name == name);
            bytes.CopyTo(img.AsSpan((int)t.DramAddress));
        }

        return img;
    }

    public void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(Path.Combine(dir, "expected"));
        var files = new JsonObject();
        void Put(string rel, byte[] bytes)
        {
            File.WriteAllBytes(Path.Combine(dir, rel), bytes);
            files[rel] = new JsonObject { ["bytes"] = bytes.Length, ["sha256"] = Sha256(bytes) };
        }

        var prog = Program.ProgramBytes();
        var dma = Program.DescriptorBytes();
        var dram = DramImage();
        Put("program.bin", prog);
        Put("dma.bin", dma);
        Put("dram.bin", dram);
        Put("program.hex", Hex(prog, 16));
        Put("dma.hex", Hex(dma, 4));
        Put("dram.hex", Hex(dram, 4));
        Put("sram.hex", Hex(new byte[Target.SramBytes], 4));
        Put("acc.hex", Hex(new byte[Target.AccumulatorBytes], 4));
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
                ["sha256"] = Data.TryGetValue(t.Name, out var d) ? Sha256(d) : null,
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
                Mem("dram", "dram.hex", 32, dram.Length / 4),
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

    /// <summary><c>$readmemh</c> text: one word per line, <paramref name="wordBytes"/> little-endian bytes printed most significant first.</summary>
    public static byte[] Hex(ReadOnlySpan<byte> data, int wordBytes)
    {
        var sb = new StringBuilder(data.Length / wordBytes * (2 * wordBytes + 1));
        for (int i = 0; i < data.Length; i += wordBytes)
        {
            for (int j = wordBytes - 1; j >= 0; j--)
            {
                sb.Append(i + j < data.Length ? data[i + j].ToString("x2", System.Globalization.CultureInfo.InvariantCulture) : "00");
            }

            sb.Append('\n');
        }

        return Encoding.ASCII.GetBytes(sb.ToString());
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
