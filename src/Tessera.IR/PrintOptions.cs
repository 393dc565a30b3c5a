namespace Tessera.IR;

public sealed record PrintOptions
{
    /// <summary>Print every op in the generic form, ignoring custom syntax.</summary>
    public bool Generic { get; init; }

    /// <summary>Print each op's location as a trailing <c>loc(...)</c>.</summary>
    public bool DebugInfo { get; init; }

    /// <summary>Dense constants with more elements than this print as <c>dense_resource&lt;__elided__&gt;</c>; null never elides.</summary>
    public long? ElideElementsLargerThan { get; init; } = 256;

    /// <summary>Dense constants with more elements than <see cref="HexThreshold"/> print as one hex string.</summary>
    public bool LargeConstantsAsHex { get; init; }

    public long HexThreshold { get; init; } = 64;

    /// <summary>Regions nested deeper than this print as a marker: the printer's recursion is bounded whatever the IR.</summary>
    public int MaxNesting { get; init; } = Parser.MaxNesting;

    public static readonly PrintOptions Default = new();
    public static readonly PrintOptions GenericWithLocations = new() { Generic = true, DebugInfo = true };

    /// <summary>Lossless text: no elision, large constants in hex.</summary>
    public static readonly PrintOptions Full = new() { ElideElementsLargerThan = null, LargeConstantsAsHex = true };
}
