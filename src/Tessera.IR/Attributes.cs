using System.Globalization;
using System.Text;

namespace Tessera.IR;

/// <summary>An immutable compile-time value attached to an operation. Equality is structural.</summary>
public abstract class Attribute : IEquatable<Attribute>
{
    private string? _text;

    /// <summary>The canonical text (dense data elided above the default threshold).</summary>
    public string Text => _text ??= AttributePrinter.Print(this, PrintOptions.Default);

    public override string ToString() => Text;
    public virtual bool Equals(Attribute? other) => other is not null && (ReferenceEquals(this, other) || (GetType() == other.GetType() && Text == other.Text));
    public override bool Equals(object? obj) => obj is Attribute a && Equals(a);
    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);
    public static bool operator ==(Attribute? a, Attribute? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Attribute? a, Attribute? b) => !(a == b);
}

/// <summary>An attribute that has a type, as every constant-producing attribute does.</summary>
public interface ITypedAttribute
{
    Type Type { get; }
}

public sealed class IntegerAttr(long value, Type type) : Attribute, ITypedAttribute
{
    public long Value { get; } = value;
    public Type Type { get; } = type;
    public static IntegerAttr I64(long v) => new(v, IntegerType.I64);
    public static IntegerAttr Index(long v) => new(v, IndexType.Instance);
}

public sealed class FloatAttr(double value, FloatType type) : Attribute, ITypedAttribute
{
    public double Value { get; } = FloatFormat.RoundTo(value, type);
    public FloatType FloatType { get; } = type;
    public Type Type => FloatType;

    // NaN payloads and signed zeros matter for constants, so equality is on bits, not on text.
    public override bool Equals(Attribute? other) => other is FloatAttr f && f.FloatType == FloatType && BitConverter.DoubleToInt64Bits(f.Value) == BitConverter.DoubleToInt64Bits(Value);
    public override int GetHashCode() => HashCode.Combine(FloatType, BitConverter.DoubleToInt64Bits(Value));
}

public sealed class BoolAttr : Attribute
{
    private BoolAttr(bool v) { Value = v; }
    public bool Value { get; }
    public static readonly BoolAttr True = new(true);
    public static readonly BoolAttr False = new(false);
    public static BoolAttr Get(bool v) => v ? True : False;
}

public sealed class UnitAttr : Attribute
{
    private UnitAttr() { }
    public static readonly UnitAttr Instance = new();
}

public sealed class StringAttr(string value) : Attribute
{
    public string Value { get; } = value;
}

public sealed class ArrayAttr(IReadOnlyList<Attribute> elements) : Attribute
{
    public IReadOnlyList<Attribute> Elements { get; } = elements.ToArray();
    public static ArrayAttr Of(params Attribute[] elements) => new(elements);
    public static ArrayAttr OfInts(IEnumerable<long> values) => new(values.Select(v => (Attribute)IntegerAttr.I64(v)).ToArray());
}

/// <summary>A dictionary kept sorted by key (ordinal), so printing and equality never depend on insertion order.</summary>
public sealed class DictionaryAttr : Attribute
{
    public DictionaryAttr(IEnumerable<KeyValuePair<string, Attribute>> entries)
    {
        Entries = entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToArray();
    }

    public IReadOnlyList<KeyValuePair<string, Attribute>> Entries { get; }
    public Attribute? Get(string key) => Entries.FirstOrDefault(e => e.Key == key).Value;
}

public sealed class TypeAttr(Type value) : Attribute
{
    public Type Value { get; } = value;
}

/// <summary>A reference to a symbol: <c>@root</c> or a nested path <c>@root::@leaf</c>.</summary>
public sealed class SymbolRefAttr(string root, IReadOnlyList<string>? nested = null) : Attribute
{
    public string Root { get; } = root;
    public IReadOnlyList<string> Nested { get; } = nested?.ToArray() ?? [];
    public string Leaf => Nested.Count == 0 ? Root : Nested[^1];
}

/// <summary>
/// A dense constant of a static shape. The bytes are little-endian elements in row-major order
/// (i1 one byte each, i4 two per byte low nibble first, ggml block types as raw blocks) and may live
/// in a memory-mapped file rather than a managed array.
/// </summary>
public sealed class DenseElementsAttr : Attribute, ITypedAttribute
{
    public DenseElementsAttr(ShapedType type, DenseStorage storage, bool isSplat = false)
    {
        ShapedType = type;
        Storage = storage;
        IsSplat = isSplat;
    }

    public ShapedType ShapedType { get; }
    public Type Type => ShapedType;
    public DenseStorage Storage { get; }

    /// <summary>A splat stores one element that stands for all of them.</summary>
    public bool IsSplat { get; }

    public long ElementCount => ShapedType.ElementCount ?? 0;

    public override bool Equals(Attribute? other) =>
        other is DenseElementsAttr d && (ReferenceEquals(this, d) ||
            (d.ShapedType == ShapedType && d.IsSplat == IsSplat && d.Storage.ContentEquals(Storage)));

    public override int GetHashCode() => HashCode.Combine(ShapedType, IsSplat, Storage.ContentHash());

    public static DenseElementsAttr FromDoubles(ShapedType type, IReadOnlyList<double> values) =>
        new(type, new ArrayStorage(ElementCodec.Encode(type.ElementType, values)), values.Count == 1 && type.ElementCount != 1);

    public static DenseElementsAttr FromLongs(ShapedType type, IReadOnlyList<long> values) =>
        new(type, new ArrayStorage(ElementCodec.EncodeInts(type.ElementType, values)), values.Count == 1 && type.ElementCount != 1);

    /// <summary>Element <paramref name="i"/> as a double (splats repeat element 0).</summary>
    public double GetDouble(long i) => ElementCodec.ReadDouble(ShapedType.ElementType, Storage, IsSplat ? 0 : i);

    public long GetLong(long i) => ElementCodec.ReadLong(ShapedType.ElementType, Storage, IsSplat ? 0 : i);
}

/// <summary>A dense constant whose data the printer left out (<c>dense_resource&lt;__elided__&gt;</c>); it cannot be evaluated.</summary>
public sealed class ElidedElementsAttr(ShapedType type) : Attribute, ITypedAttribute
{
    public ShapedType ShapedType { get; } = type;
    public Type Type => ShapedType;
}

internal static class AttrText
{
    public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);
    public static StringBuilder AppendInt(this StringBuilder sb, long v) => sb.Append(Int(v));
}
