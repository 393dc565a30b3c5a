using System.Globalization;
using System.Text;

namespace Tessera.Gguf;

/// <summary><c>tessera inspect x.gguf</c>: header, every metadata key, and a tensor table with totals.</summary>
public static class GgufInspector
{
    /// <summary>Arrays with more items than this print as <c>[type x N]</c>.</summary>
    public const int MaxArrayItems = 16;

    public static string Describe(string path)
    {
        using var f = GgufFile.Open(path);
        return Describe(f);
    }

    public static string Describe(GgufFile f)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"{f.Path}: GGUF v{f.Version}, alignment {f.Alignment}, data at byte {f.DataOffset}, architecture {f.Architecture ?? "(none)"}\n");
        sb.Append(inv, $"metadata ({f.Metadata.Count} keys):\n");
        foreach (var (key, value) in f.Metadata)
        {
            sb.Append(inv, $"  {key} = {Format(value)}\n");
        }

        sb.Append(inv, $"tensors ({f.Tensors.Count}):\n");
        int nameW = Math.Max(4, f.Tensors.Select(t => t.Name.Length).DefaultIfEmpty(0).Max());
        sb.Append(inv, $"  {"name".PadRight(nameW)}  {"type",-7}  {"shape",-18}  {"bytes",12}\n");
        long elements = 0, bytes = 0;
        var byType = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in f.Tensors)
        {
            sb.Append(inv, $"  {t.Name.PadRight(nameW)}  {t.Type,-7}  {string.Join("x", t.Shape),-18}  {t.ByteSize,12}\n");
            elements += t.ElementCount;
            bytes += t.ByteSize;
            byType[t.Type.ToString()] = byType.GetValueOrDefault(t.Type.ToString()) + 1;
        }

        sb.Append(inv, $"total: {f.Tensors.Count} tensors, {elements} parameters, {bytes} bytes of tensor data");
        sb.Append(inv, $" ({string.Join(", ", byType.Select(kv => $"{kv.Key} x{kv.Value}"))}); file {f.Mapping.Length} bytes\n");
        return sb.ToString();
    }

    public static string Format(GgufValue v) => v.Type switch
    {
        GgufValueType.Array when v.Items!.Count > MaxArrayItems => $"[{Name(v.ElementType!.Value)} x {v.Items.Count}]",
        GgufValueType.Array => "[" + string.Join(", ", v.Items!.Select(Format)) + "]",
        GgufValueType.String => Quote((string)v.Value!),
        GgufValueType.F32 => ((float)v.Value!).ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.F64 => ((double)v.Value!).ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Bool => (bool)v.Value! ? "true" : "false",
        _ => Convert.ToString(v.Value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Name(GgufValueType t) => t == GgufValueType.String ? "string" : t.ToString().ToLowerInvariant();

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s.Length > 200 ? s[..200] + "..." : s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }
}
