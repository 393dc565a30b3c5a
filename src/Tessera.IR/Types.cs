using System.Text;

namespace Tessera.IR;

/// <summary>
/// An immutable IR type. Equality is structural: two types are equal when their canonical
/// text is equal, which keeps every type kind consistent with the printer for free.
/// </summary>
public abstract class Type : IEquatable<Type>
{
    private string? _text;

    public string Text => _text ??= BuildText();

    protected abstract string BuildText();

    public override string ToString() => Text;
    public bool Equals(Type? other) => other is not null && (ReferenceEquals(this, other) || Text == other.Text);
    public override bool Equals(object? obj) => obj is Type t && Equals(t);
    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);
    public static bool operator ==(Type? a, Type? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Type? a, Type? b) => !(a == b);
}

public enum Signedness { Signless, Unsigned }

public sealed class IntegerType : Type
{
    private IntegerType(int width, Signedness signedness) { Width = width; Signedness = signedness; }
    public int Width { get; }
    public Signedness Signedness { get; }
    public bool IsUnsigned => Signedness == Signedness.Unsigned;

    public static readonly IntegerType I1 = new(1, Signedness.Signless);
    public static readonly IntegerType I4 = new(4, Signedness.Signless);
    public static readonly IntegerType I8 = new(8, Signedness.Signless);
    public static readonly IntegerType I16 = new(16, Signedness.Signless);
    public static readonly IntegerType I32 = new(32, Signedness.Signless);
    public static readonly IntegerType I64 = new(64, Signedness.Signless);
    public static readonly IntegerType U4 = new(4, Signedness.Unsigned);
    public static readonly IntegerType U8 = new(8, Signedness.Unsigned);
    public static readonly IntegerType U16 = new(16, Signedness.Unsigned);
    public static readonly IntegerType U32 = new(32, Signedness.Unsigned);
    public static readonly IntegerType U64 = new(64, Signedness.Unsigned);

    public static readonly int[] SupportedWidths = [1, 4, 8, 16, 32, 64];

    public static IntegerType? Get(int width, Signedness signedness = Signedness.Signless) => (width, signedness) switch
    {
        (1, Signedness.Signless) => I1,
        (4, Signedness.Signless) => I4,
        (8, Signedness.Signless) => I8,
        (16, Signedness.Signless) => I16,
        (32, Signedness.Signless) => I32,
        (64, Signedness.Signless) => I64,
        (4, Signedness.Unsigned) => U4,
        (8, Signedness.Unsigned) => U8,
        (16, Signedness.Unsigned) => U16,
        (32, Signedness.Unsigned) => U32,
        (64, Signedness.Unsigned) => U64,
        _ => null,
    };

    protected override string BuildText() => (IsUnsigned ? "ui" : "i") + Width;
}

public enum FloatKind { F16, BF16, F32, F64 }

public sealed class FloatType : Type
{
    private FloatType(FloatKind kind, int width) { Kind = kind; Width = width; }
    public FloatKind Kind { get; }
    public int Width { get; }

    public static readonly FloatType F16 = new(FloatKind.F16, 16);
    public static readonly FloatType BF16 = new(FloatKind.BF16, 16);
    public static readonly FloatType F32 = new(FloatKind.F32, 32);
    public static readonly FloatType F64 = new(FloatKind.F64, 64);

    protected override string BuildText() => Kind switch
    {
        FloatKind.F16 => "f16",
        FloatKind.BF16 => "bf16",
        FloatKind.F32 => "f32",
        FloatKind.F64 => "f64",
        _ => throw new InvalidOperationException($"unknown float kind {Kind}"),
    };
}

public sealed class IndexType : Type
{
    private IndexType() { }
    public static readonly IndexType Instance = new();
    protected override string BuildText() => "index";
}

public sealed class NoneType : Type
{
    private NoneType() { }
    public static readonly NoneType Instance = new();
    protected override string BuildText() => "none";
}

public sealed class FunctionType : Type
{
    public FunctionType(IReadOnlyList<Type> inputs, IReadOnlyList<Type> results)
    {
        Inputs = inputs.ToArray();
        Results = results.ToArray();
    }

    public IReadOnlyList<Type> Inputs { get; }
    public IReadOnlyList<Type> Results { get; }

    protected override string BuildText()
    {
        var sb = new StringBuilder("(");
        sb.AppendJoin(", ", Inputs.Select(t => t.Text));
        sb.Append(") -> ");
        if (Results.Count == 1 && Results[0] is not FunctionType)
        {
            sb.Append(Results[0].Text);
        }
        else
        {
            sb.Append('(').AppendJoin(", ", Results.Select(t => t.Text)).Append(')');
        }

        return sb.ToString();
    }
}

/// <summary>One dimension of a shaped type: a static extent, or dynamic with an optional symbol such as <c>seq</c>.</summary>
public readonly record struct Dim(long Size, string? Symbol = null)
{
    public const long DynamicSize = -1;
    public static Dim Dynamic(string? symbol = null) => new(DynamicSize, symbol);
    public bool IsDynamic => Size == DynamicSize;
    public static implicit operator Dim(long size) => new(size);

    public override string ToString() => IsDynamic ? (Symbol is null ? "?" : "{" + Symbol + "}") : Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A type with a shape and an element type: tensors and memrefs.</summary>
public abstract class ShapedType : Type
{
    protected ShapedType(IReadOnlyList<Dim>? shape, Type elementType)
    {
        Shape = shape?.ToArray();
        ElementType = elementType;
    }

    /// <summary>Null for an unranked type.</summary>
    public IReadOnlyList<Dim>? Shape { get; }
    public Type ElementType { get; }
    public bool IsRanked => Shape is not null;
    public int Rank => Shape?.Count ?? throw new InvalidOperationException("unranked type has no rank");
    public bool HasStaticShape => Shape is not null && Shape.All(d => !d.IsDynamic);

    /// <summary>Number of elements, or null when a dimension is dynamic. Throws OverflowException on overflow.</summary>
    public long? ElementCount
    {
        get
        {
            if (!HasStaticShape)
            {
                return null;
            }

            long n = 1;
            foreach (var d in Shape!)
            {
                n = checked(n * d.Size);
            }

            return n;
        }
    }

    protected void AppendShape(StringBuilder sb)
    {
        if (Shape is null)
        {
            sb.Append("*x");
            return;
        }

        foreach (var d in Shape)
        {
            sb.Append(d.ToString()).Append('x');
        }
    }
}

public sealed class TensorType : ShapedType
{
    public TensorType(IReadOnlyList<Dim>? shape, Type elementType) : base(shape, elementType) { }

    public static TensorType Of(Type elementType, params long[] shape) => new(shape.Select(s => new Dim(s)).ToArray(), elementType);

    protected override string BuildText()
    {
        var sb = new StringBuilder("tensor<");
        AppendShape(sb);
        sb.Append(ElementType.Text).Append('>');
        return sb.ToString();
    }
}

public enum MemorySpace { Dram, Sram, Acc }

public sealed class MemRefType : ShapedType
{
    public MemRefType(IReadOnlyList<Dim> shape, Type elementType, MemorySpace space) : base(shape, elementType) { Space = space; }
    public MemorySpace Space { get; }

    public static string SpaceName(MemorySpace s) => s switch
    {
        MemorySpace.Dram => "dram",
        MemorySpace.Sram => "sram",
        MemorySpace.Acc => "acc",
        _ => throw new InvalidOperationException($"unknown memory space {s}"),
    };

    public static MemorySpace? ParseSpace(string s) => s switch
    {
        "dram" => MemorySpace.Dram,
        "sram" => MemorySpace.Sram,
        "acc" => MemorySpace.Acc,
        _ => null,
    };

    protected override string BuildText()
    {
        var sb = new StringBuilder("memref<");
        AppendShape(sb);
        sb.Append(ElementType.Text).Append(", ").Append(SpaceName(Space)).Append('>');
        return sb.ToString();
    }
}
