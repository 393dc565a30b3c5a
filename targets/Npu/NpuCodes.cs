namespace Tessera.Npu;

/// <summary>Diagnostic codes of the NPU target (08xx). Listed in docs/npu/isa.md.</summary>
public static class NpuCodes
{
    public const string TargetBadValue = "TSR0801";
    public const string TargetUnreadable = "TSR0802";
    public const string AsmSyntax = "TSR0811";
    public const string AsmUnknown = "TSR0812";
    public const string AsmRange = "TSR0813";
    public const string DecodeBad = "TSR0814";
    public const string BundleBad = "TSR0821";
    public const string SimOutOfBounds = "TSR0831";
    public const string SimHazard = "TSR0832";
    public const string SimDeadlock = "TSR0833";
    public const string SimBadOperand = "TSR0834";
    public const string SimMismatch = "TSR0835";
    public const string LowerUnsupported = "TSR0841";

    public static DiagnosticException Error(string code, string where, string message) =>
        new(new Diagnostic(Severity.Error, code, message, where.Length == 0 ? Location.Unknown : new NameLoc(where)));
}
