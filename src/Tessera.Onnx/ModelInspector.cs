using System.Globalization;
using System.Text;
using Tessera.Dialects.Graph;
using Tessera.Onnx.Proto;

namespace Tessera.Onnx;

/// <summary><c>tessera inspect</c> for ONNX: works straight from the protobuf, so it also describes models Tessera cannot import.</summary>
public static class ModelInspector
{
    public static string Describe(string path)
    {
        var model = OnnxReader.ReadModel(path);
        var g = model.Graph;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"model: {path}\n");
        sb.Append(CultureInfo.InvariantCulture, $"producer: {model.ProducerName} {model.ProducerVersion}, IR version {model.IrVersion}\n");
        sb.Append("opsets: ").AppendJoin(", ", model.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}")).Append('\n');
        var inits = new HashSet<string>(g.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        sb.Append("inputs:\n");
        foreach (var i in g.Input.Where(i => !inits.Contains(i.Name)))
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {i.Name}: {TypeText(i.Type)}\n");
        }

        sb.Append("outputs:\n");
        foreach (var o in g.Output)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {o.Name}: {TypeText(o.Type)}\n");
        }

        long parameters = 0, bytes = 0;
        foreach (var t in g.Initializer)
        {
            long n = t.Dims.Aggregate(1L, (a, d) => d < 0 ? a : a * d);
            parameters += n;
            bytes += OnnxTypes.ToIr(t.DataType) is { } e ? ElementCodec.ByteSize(e, n) ?? 0 : 0;
        }

        sb.Append(CultureInfo.InvariantCulture, $"parameters: {parameters:N0} in {g.Initializer.Count} initializers, {bytes:N0} bytes\n");
        sb.Append(CultureInfo.InvariantCulture, $"nodes: {g.Node.Count}\nop histogram:\n");
        var opsets = model.OpsetImport.ToDictionary(o => o.Domain is "" or "ai.onnx" ? "" : o.Domain, o => (int)o.Version, StringComparer.Ordinal);
        foreach (var grp in g.Node.GroupBy(n => (n.Domain is "ai.onnx" ? "" : n.Domain, n.OpType)).OrderByDescending(x => x.Count()).ThenBy(x => x.Key.Item1, StringComparer.Ordinal).ThenBy(x => x.Key.OpType, StringComparer.Ordinal))
        {
            var label = grp.Key.Item1.Length == 0 ? grp.Key.OpType : $"{grp.Key.Item1}.{grp.Key.OpType}";
            sb.Append(CultureInfo.InvariantCulture, $"  {grp.Count(),6}  {label}\n");
        }

        var unsupported = g.Node.Select((n, i) => (n, i))
            .Where(x => x.n.OpType != "Constant" && GraphOps.ForOnnx(x.n.OpType, x.n.Domain is "ai.onnx" ? "" : x.n.Domain, opsets.GetValueOrDefault(x.n.Domain is "ai.onnx" ? "" : x.n.Domain, 1)) is null)
            .ToList();
        sb.Append(CultureInfo.InvariantCulture, $"unsupported ops: {unsupported.Count}\n");
        foreach (var (n, i) in unsupported)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {n.OpType} ({(n.Domain.Length == 0 ? "ai.onnx" : n.Domain)}) at node '{(n.Name.Length > 0 ? n.Name : $"{n.OpType}_{i}")}'\n");
        }

        return sb.ToString();
    }

    private static string TypeText(TypeProto? t)
    {
        if (t?.TensorType is not { } tt)
        {
            return t is null ? "?" : "non-tensor " + t.ValueCase;
        }

        var dims = tt.Shape is null ? "*" : string.Join("x", tt.Shape.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(CultureInfo.InvariantCulture),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        }));
        return $"{OnnxTypes.Name(tt.ElemType)}[{dims}]";
    }
}
