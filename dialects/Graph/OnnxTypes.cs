namespace Tessera.Dialects.Graph;

/// <summary>ONNX <c>TensorProto.DataType</c> numbers and the IR element types they map to.</summary>
public static class OnnxTypes
{
    public const int Float = 1, Uint8 = 2, Int8 = 3, Uint16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
        Float16 = 10, Double = 11, Uint32 = 12, Uint64 = 13, BFloat16 = 16, Uint4 = 21, Int4 = 22;

    /// <summary>The IR element type, or null for types Tessera does not hold (strings, complex, float8, float4).</summary>
    public static Type? ToIr(int dataType) => dataType switch
    {
        Float => FloatType.F32,
        Uint8 => IntegerType.U8,
        Int8 => IntegerType.I8,
        Uint16 => IntegerType.U16,
        Int16 => IntegerType.I16,
        Int32 => IntegerType.I32,
        Int64 => IntegerType.I64,
        Bool => IntegerType.I1,
        Float16 => FloatType.F16,
        Double => FloatType.F64,
        Uint32 => IntegerType.U32,
        Uint64 => IntegerType.U64,
        BFloat16 => FloatType.BF16,
        Uint4 => IntegerType.U4,
        Int4 => IntegerType.I4,
        _ => null,
    };

    public static int FromIr(Type t) => t switch
    {
        FloatType { Kind: FloatKind.F32 } => Float,
        FloatType { Kind: FloatKind.F16 } => Float16,
        FloatType { Kind: FloatKind.BF16 } => BFloat16,
        FloatType { Kind: FloatKind.F64 } => Double,
        IntegerType { Width: 1 } => Bool,
        IntegerType { Width: 4, IsUnsigned: true } => Uint4,
        IntegerType { Width: 4 } => Int4,
        IntegerType { Width: 8, IsUnsigned: true } => Uint8,
        IntegerType { Width: 8 } => Int8,
        IntegerType { Width: 16, IsUnsigned: true } => Uint16,
        IntegerType { Width: 16 } => Int16,
        IntegerType { Width: 32, IsUnsigned: true } => Uint32,
        IntegerType { Width: 32 } => Int32,
        IntegerType { Width: 64, IsUnsigned: true } => Uint64,
        IntegerType { Width: 64 } => Int64,
        _ => 0,
    };

    public static string Name(int dataType) => dataType switch
    {
        Float => "FLOAT", Uint8 => "UINT8", Int8 => "INT8", Uint16 => "UINT16", Int16 => "INT16", Int32 => "INT32",
        Int64 => "INT64", String => "STRING", Bool => "BOOL", Float16 => "FLOAT16", Double => "DOUBLE", Uint32 => "UINT32",
        Uint64 => "UINT64", 14 => "COMPLEX64", 15 => "COMPLEX128", BFloat16 => "BFLOAT16", 17 => "FLOAT8E4M3FN",
        18 => "FLOAT8E4M3FNUZ", 19 => "FLOAT8E5M2", 20 => "FLOAT8E5M2FNUZ", Uint4 => "UINT4", Int4 => "INT4", 23 => "FLOAT4E2M1",
        _ => "data type " + dataType,
    };
}
