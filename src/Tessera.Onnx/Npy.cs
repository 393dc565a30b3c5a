using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Tessera.Dialects.Graph;

namespace Tessera.Onnx;

/// <summary>NumPy .npy files (format 1.0–3.0, little-endian, C order), as iree-run-module reads and writes them.</summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static readonly (string Descr, Type Type, int Size)[] Dtypes =
    [
        ("<f4", FloatType.F32, 4), ("<f8", FloatType.F64, 8), ("<f2", FloatType.F16, 2),
        ("<i8", IntegerType.I64, 8), ("<i4", IntegerType.I32, 4), ("<i2", IntegerType.I16, 2), ("|i1", IntegerType.I8, 1),
        ("<u8", IntegerType.U64, 8), ("<u4", IntegerType.U32, 4), ("<u2", IntegerType.U16, 2), ("|u1", IntegerType.U8, 1),
        ("|b1", IntegerType.I1, 1),
    ];

    [GeneratedRegex(@"'descr'\s*:\s*'(?<d>[^']*)'")]
    private static partial Regex DescrRe();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(?<f>True|False)")]
    private static partial Regex FortranRe();

    [GeneratedRegex(@"'shape'\s*:\s*\((?<s>[^)]*)\)")]
    private static partial Regex ShapeRe();

    public static NDArray Read(string path)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OnnxCodes.Error(OnnxCodes.FileUnreadable, path, $"cannot read: {e.Message}");
        }

        if (file.Length < 10 || !file.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, "not a .npy file (bad magic)");
        }

        int major = file[6];
        int headerLen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)) : major is 2 or 3 && file.Length >= 12 ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8)), int.MaxValue) : -1;
        int headerStart = major == 1 ? 10 : 12;
        if (headerLen < 0 || headerLen > file.Length - headerStart)
        {
            throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, $"unsupported version {major} or header longer than the file");
        }

        var header = Encoding.Latin1.GetString(file, headerStart, headerLen);
        var descr = DescrRe().Match(header).Groups["d"].Value;
        if (FortranRe().Match(header).Groups["f"].Value == "True")
        {
            throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, "Fortran-order arrays are not supported");
        }

        // Byte order marks: '<' little-endian, '|' not applicable (1 byte), '=' native (little-endian here).
        var kind = descr.Length == 3 && descr[0] is '<' or '|' or '=' ? descr[1..] : descr;
        var dtype = Dtypes.FirstOrDefault(d => d.Descr[1..] == kind);
        if (dtype.Type is null)
        {
            throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, $"unsupported dtype '{descr}'");
        }

        var shapeText = ShapeRe().Match(header);
        if (!shapeText.Success)
        {
            throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, "header has no shape");
        }

        var shape = shapeText.Groups["s"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, $"bad dimension '{s}'"))
            .ToArray();
        long count;
        try
        {
            count = NDArray.Count(shape);
            long need = checked(count * dtype.Size);
            if (need != file.Length - headerStart - headerLen)
            {
                throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, $"shape [{string.Join(", ", shape)}] of {descr} needs {need} bytes but the file has {file.Length - headerStart - headerLen}");
            }
        }
        catch (OverflowException)
        {
            throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, "shape overflows 64 bits");
        }

        var storage = new ArrayStorage(file.AsSpan(headerStart + headerLen).ToArray());
        return Tessera.Dialects.Graph.Convert.FromAttr(new DenseElementsAttr(new TensorType(shape.Select(d => new Dim(d)).ToArray(), dtype.Type), storage));
    }

    public static void Write(string path, NDArray a)
    {
        var dtype = Dtypes.FirstOrDefault(d => d.Type == a.ElementType);
        if (dtype.Type is null)
        {
            throw OnnxCodes.Error(OnnxCodes.NpyFormat, path, $"cannot write {a.ElementType} as .npy");
        }

        var shape = a.Shape.Length == 1 ? $"({a.Shape[0]},)" : "(" + string.Join(", ", a.Shape) + ")";
        var header = $"{{'descr': '{dtype.Descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        var data = Tessera.Dialects.Graph.Convert.ToAttr(a).Storage.Span;
        using var f = File.Create(path);
        f.Write(Magic);
        f.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        f.Write(len);
        f.Write(Encoding.Latin1.GetBytes(header));
        if (a.ElementType is IntegerType { Width: 1 })
        {
            f.Write(a.I!.Select(v => (byte)(v != 0 ? 1 : 0)).ToArray());
        }
        else
        {
            f.Write(data);
        }
    }
}

/// <summary>Reads a tensor given as <c>.npy</c> or as an ONNX <c>TensorProto</c> <c>.pb</c> (as the ONNX test data stores them).</summary>
public static class TensorFiles
{
    public static NDArray Read(string path)
    {
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            return Npy.Read(path);
        }

        var proto = OnnxReader.ReadTensor(path);
        return Tessera.Dialects.Graph.Convert.FromAttr(new TensorReader(path).Read(proto, $"tensor file '{path}'"));
    }
}
