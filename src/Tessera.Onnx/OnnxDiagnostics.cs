namespace Tessera.Onnx;

/// <summary>Diagnostic codes of the ONNX frontend (05xx) and the model I/O around it.</summary>
public static class OnnxCodes
{
    public const string FileUnreadable = "TSR0501";
    public const string Malformed = "TSR0502";
    public const string TensorSize = "TSR0503";
    public const string UnsupportedOp = "TSR0504";
    public const string PathEscape = "TSR0505";
    public const string ExternalBounds = "TSR0506";
    public const string UnsupportedType = "TSR0507";
    public const string ImpossibleShape = "TSR0508";
    public const string UndefinedValue = "TSR0509";
    public const string NpyFormat = "TSR0510";
    public const string BadAttribute = "TSR0511";

    public static DiagnosticException Error(string code, string file, string message, Location? location = null) =>
        new(new Diagnostic(Severity.Error, code, $"{file}: {message}", location ?? new NameLoc(file)));
}
