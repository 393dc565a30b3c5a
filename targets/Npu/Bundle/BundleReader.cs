using System.Text.Json;
using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Npu.Bundle;

/// <summary>Reads a bundle back, checking every file's size and sha256 against the manifest (TSR0821 otherwise).</summary>
public static class BundleReader
{
    /// <param name="loadData">False: check dram.bin and each tensor's sha256 a chunk at a time but keep no data (a timing-only
    /// run needs none, and a large model's image is gigabytes); <see cref="NpuBundle.Data"/> is then empty.</param>
    public static NpuBundle Read(string dir, bool loadData = true)
    {
        var manifestPath = Path.Combine(dir, "manifest.json");
        if (!File.Exists(manifestPath))
        {
            throw NpuCodes.Error(NpuCodes.BundleBad, dir, "not a bundle: manifest.json is missing");
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(manifestPath));
            var root = doc.RootElement;
            if (root.GetProperty("format").GetString() != NpuBundle.Format || root.GetProperty("version").GetInt32() != NpuBundle.Version)
            {
                throw Bad(manifestPath, $"format must be {NpuBundle.Format} version {NpuBundle.Version}");
            }

            byte[] Load(string rel)
            {
                if (!root.GetProperty("files").TryGetProperty(rel, out var f))
                {
                    throw Bad(manifestPath, $"files has no entry for {rel}");
                }

                var bytes = System.IO.File.ReadAllBytes(Path.Combine(dir, rel));
                if (bytes.Length != f.GetProperty("bytes").GetInt64() || NpuBundle.Sha256(bytes) != f.GetProperty("sha256").GetString())
                {
                    throw Bad(Path.Combine(dir, rel), "size or sha256 does not match manifest.json");
                }

                return bytes;
            }

            var target = TargetLoader.Parse(root.GetProperty("target").GetRawText(), manifestPath + ":target");
            var program = new AsmProgram { Target = target.Name };
            program.Instrs.AddRange(AsmProgram.DecodeProgram(Load("program.bin")));
            program.Descriptors.AddRange(AsmProgram.DecodeDescriptors(Load("dma.bin")));
            foreach (var e in root.GetProperty("entries").EnumerateObject())
            {
                program.Entries[e.Name] = e.Value.GetInt32();
            }

            var dram = loadData ? Load("dram.bin") : null;
            if (dram is null)
            {
                var f = root.GetProperty("files").GetProperty("dram.bin");
                var path = Path.Combine(dir, "dram.bin");
                if (HashRange(path, 0, new FileInfo(path).Length) != f.GetProperty("sha256").GetString() || new FileInfo(path).Length != f.GetProperty("bytes").GetInt64())
                {
                    throw Bad(path, "size or sha256 does not match manifest.json");
                }
            }

            var data = new Dictionary<string, byte[]>();
            var expected = new Dictionary<string, byte[]>();
            foreach (var t in root.GetProperty("tensors").EnumerateArray())
            {
                var decl = new TensorDecl(t.GetProperty("name").GetString()!, t.GetProperty("role").GetString()!, t.GetProperty("dram").GetInt64(),
                    [.. t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())], t.GetProperty("dtype").GetString()!);
                program.Tensors.Add(decl);
                if (t.GetProperty("sha256").GetString() is { } sha)
                {
                    var bytes = dram?.AsSpan((int)decl.DramAddress, (int)decl.Bytes).ToArray();
                    var got = bytes is null ? HashRange(Path.Combine(dir, "dram.bin"), decl.DramAddress, decl.Bytes) : NpuBundle.Sha256(bytes);
                    if (got != sha)
                    {
                        throw Bad(manifestPath, $"tensor {decl.Name}: sha256 does not match dram.bin");
                    }

                    if (bytes is not null)
                    {
                        data[decl.Name] = bytes;
                    }
                }

                if (t.TryGetProperty("expected", out var ex))
                {
                    expected[decl.Name] = Load(ex.GetString()!);
                }
            }

            var steps = new List<BundleStep>();
            if (root.TryGetProperty("steps", out var st))
            {
                foreach (var e in st.EnumerateArray())
                {
                    var step = BundleStep.FromJson(e);
                    bool known = step.Kind == "npu" ? program.Entries.ContainsKey(step.Name) : step.Kind == "host";
                    var missing = step.Inputs.Concat(step.Outputs).FirstOrDefault(n => program.Tensors.All(t => t.Name != n));
                    if (!known || missing is not null)
                    {
                        throw Bad(manifestPath, missing is not null ? $"step {step.Name} names tensor '{missing}', which the manifest does not list"
                            : $"step {step.Name}: kind '{step.Kind}' is not npu or host, or the entry point does not exist");
                    }

                    steps.Add(step);
                }
            }

            string? host = root.TryGetProperty("host_module", out var hm) && hm.GetString() is { } hostFile
                ? System.Text.Encoding.UTF8.GetString(Load(hostFile)) : null;
            if (host is null && steps.Any(s => s.Kind == "host"))
            {
                throw Bad(manifestPath, "the steps include host ops but there is no host_module");
            }

            return new NpuBundle { Program = program, Target = target, Data = data, Expected = expected, Steps = steps, HostModule = host };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IOException or ArgumentException)
        {
            throw Bad(manifestPath, $"malformed bundle: {e.Message}");
        }
    }

    /// <summary>The sha256 of <paramref name="length"/> bytes of a file from <paramref name="offset"/>, read in 1 MiB chunks
    /// (past the end of the file counts as no bytes, so a short file does not match).</summary>
    private static string HashRange(string path, long offset, long length)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buf = new byte[1 << 20];
        fs.Seek(offset, SeekOrigin.Begin);
        for (long left = length; left > 0;)
        {
            int n = fs.Read(buf, 0, (int)Math.Min(buf.Length, left));
            if (n == 0)
            {
                break;
            }

            sha.AppendData(buf, 0, n);
            left -= n;
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static DiagnosticException Bad(string where, string message) => NpuCodes.Error(NpuCodes.BundleBad, where, message);
}
