using Google.Protobuf;
using Tessera.Onnx.Proto;

namespace Tessera.Onnx;

/// <summary>Reads a ModelProto with explicit size and recursion limits; every failure is a coded diagnostic.</summary>
public static class OnnxReader
{
    /// <summary>Nested graphs (If/Loop bodies) and nested TypeProtos are the only recursion in ONNX; real models stay far below this.</summary>
    public const int RecursionLimit = 64;

    public static ModelProto ReadModel(string path)
    {
        long length;
        try
        {
            length = new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw OnnxCodes.Error(OnnxCodes.FileUnreadable, path, $"cannot read: {e.Message}");
        }

        if (!File.Exists(path))
        {
            throw OnnxCodes.Error(OnnxCodes.FileUnreadable, path, "no such file");
        }

        if (length > int.MaxValue)
        {
            throw OnnxCodes.Error(OnnxCodes.Malformed, path, $"the model is {length} bytes; protobuf caps a message at 2 GiB, so larger models must keep their weights in external data files");
        }

        var model = Parse(path, s => ModelProto.Parser.ParseFrom(s), (int)length);
        if (model.Graph is null)
        {
            throw OnnxCodes.Error(OnnxCodes.Malformed, path, "the model has no graph (an empty or truncated file?)");
        }

        return model;
    }

    public static TensorProto ReadTensor(string path)
    {
        if (!File.Exists(path))
        {
            throw OnnxCodes.Error(OnnxCodes.FileUnreadable, path, "no such file");
        }

        return Parse(path, s => TensorProto.Parser.ParseFrom(s), (int)Math.Min(new FileInfo(path).Length, int.MaxValue));
    }

    private static T Parse<T>(string path, Func<CodedInputStream, T> parse, int sizeLimit)
    {
        try
        {
            using var file = File.OpenRead(path);
            using var coded = CodedInputStream.CreateWithLimits(file, sizeLimit, RecursionLimit);
            return parse(coded);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw OnnxCodes.Error(OnnxCodes.Malformed, path, $"not a valid ONNX protobuf (truncated or corrupt): {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OnnxCodes.Error(OnnxCodes.FileUnreadable, path, $"cannot read: {e.Message}");
        }
    }
}
