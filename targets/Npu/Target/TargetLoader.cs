using System.Text.Json;

namespace Tessera.Npu.Target;

/// <summary>Reads and validates a target description; every bad value is a TSR0801 naming its key.</summary>
public static class TargetLoader
{
    private static readonly string[] QueueNames = ["load", "matrix", "vector", "store"];

    /// <summary>A config by name (<c>e1</c>, <c>edge-large</c>) from the shipped configs, or a path to a .json file.</summary>
    public static NpuTarget LoadNamed(string nameOrPath)
    {
        if (IsPath(nameOrPath))
        {
            return LoadFile(nameOrPath);
        }

        foreach (var dir in new[] { Path.Combine(AppContext.BaseDirectory, "npu-configs"), ConfigsInSource() })
        {
            var p = Path.Combine(dir, nameOrPath + ".json");
            if (File.Exists(p))
            {
                return LoadFile(p);
            }
        }

        throw NpuCodes.Error(NpuCodes.TargetUnreadable, nameOrPath, $"no target description named '{nameOrPath}'");
    }

    /// <summary>Whether <see cref="LoadNamed"/> reads <paramref name="nameOrPath"/> as a file rather than a shipped config.</summary>
    public static bool IsPath(string nameOrPath) => nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || nameOrPath.Contains('/');

    private static string ConfigsInSource() => Path.Combine(Path.GetDirectoryName(typeof(TargetLoader).Assembly.Location) ?? ".", "configs");

    public static NpuTarget LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw NpuCodes.Error(NpuCodes.TargetUnreadable, path, $"cannot read target description: {e.Message}");
        }

        return Parse(text, path);
    }

    public static NpuTarget Parse(string json, string source = "<target>")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw NpuCodes.Error(NpuCodes.TargetUnreadable, source, $"target description is not valid JSON: {e.Message}");
        }

        using (doc)
        {
            var r = new Reader(doc.RootElement, source);
            var t = new NpuTarget
            {
                Name = r.Str("name"),
                ClockGHz = r.Dec("clockGHz", 0.001m, 100m),
                MatrixRows = r.Int("matrix.rows", 1, 256),
                MatrixCols = r.Int("matrix.cols", 1, 256),
                FloatRateDivisor = r.Int("matrix.floatRateDivisor", 1, 64),
                WeightLoadCyclesPerRow = r.Int("matrix.weightLoadCyclesPerRow", 1, 64),
                DrainCyclesPerRow = r.Int("matrix.drainCyclesPerRow", 1, 64),
                VectorLanes = r.Pow2("vector.lanes", 1, 4096),
                VectorStartupCycles = r.Int("vector.startupCycles", 0, 1000),
                VectorSimpleOpCycles = r.Int("vector.simpleOpCycles", 1, 64),
                VectorTranscendentalOpCycles = r.Int("vector.transcendentalOpCycles", 1, 64),
                SramBytes = r.Long("sram.bytes", 4096, 1L << 25),
                SramBanks = r.Pow2("sram.banks", 1, 1024),
                AccumulatorBytes = r.Long("accumulator.bytes", 1024, 1L << 30),
                DramBytes = r.Long("dram.bytes", 4096, 1L << 32),
                DmaBandwidthGBps = r.Dec("dma.bandwidthGBps", 0.001m, 100000m),
                DmaLatencyCycles = r.Int("dma.latencyCycles", 0, 1_000_000),
                DmaDescriptors = r.Int("dma.descriptors", 1, 4096),
                Semaphores = r.Int("semaphores", 1, 31),
                Json = json,
            };
            r.Queues("queues");
            if (t.AccumulatorBytes % (4L * t.MatrixCols) != 0 || t.AccumulatorRows > 4096)
            {
                throw r.Bad("accumulator.bytes", $"must be a multiple of 4 × matrix.cols and hold at most 4096 rows (has {t.AccumulatorBytes})");
            }

            r.RejectUnknown();
            return t;
        }
    }

    private sealed class Reader(JsonElement root, string source)
    {
        private readonly HashSet<string> _seen = [];

        public DiagnosticException Bad(string key, string why) =>
            NpuCodes.Error(NpuCodes.TargetBadValue, source, $"target key '{key}': {why}");

        private JsonElement Get(string key)
        {
            var e = root;
            var parts = key.Split('.');
            for (int i = 0; i < parts.Length; i++)
            {
                _seen.Add(string.Join('.', parts[..(i + 1)]));
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(parts[i], out e))
                {
                    throw Bad(key, "missing");
                }
            }

            return e;
        }

        public string Str(string key)
        {
            var e = Get(key);
            return e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } s ? s : throw Bad(key, "must be a non-empty string");
        }

        public decimal Dec(string key, decimal min, decimal max)
        {
            var e = Get(key);
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDecimal(out var v))
            {
                throw Bad(key, $"must be a number, not {e.GetRawText()}");
            }

            return v >= min && v <= max ? v : throw Bad(key, $"{v} is outside [{min}, {max}]");
        }

        public long Long(string key, long min, long max)
        {
            var e = Get(key);
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v))
            {
                throw Bad(key, $"must be an integer, not {e.GetRawText()}");
            }

            return v >= min && v <= max ? v : throw Bad(key, $"{v} is outside [{min}, {max}]");
        }

        public int Int(string key, int min, int max) => (int)Long(key, min, max);

        public int Pow2(string key, int min, int max)
        {
            int v = Int(key, min, max);
            return (v & (v - 1)) == 0 ? v : throw Bad(key, $"{v} must be a power of two");
        }

        public void Queues(string key)
        {
            var e = Get(key);
            var names = e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : null).ToArray() : [];
            if (!names.SequenceEqual(QueueNames))
            {
                throw Bad(key, "must be [\"load\", \"matrix\", \"vector\", \"store\"] (the queues this ISA dispatches to)");
            }
        }

        public void RejectUnknown()
        {
            foreach (var p in root.EnumerateObject())
            {
                Check(p.Name, p.Value);
            }

            void Check(string key, JsonElement v)
            {
                if (!_seen.Contains(key))
                {
                    throw Bad(key, "unknown key");
                }

                if (v.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in v.EnumerateObject())
                    {
                        Check(key + "." + p.Name, p.Value);
                    }
                }
            }
        }
    }
}
