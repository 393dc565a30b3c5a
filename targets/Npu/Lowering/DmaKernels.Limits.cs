namespace Tessera.Npu.Lowering;

/// <summary>What one DMA descriptor can move, as reasons an op stays on the host: placement asks these before
/// <c>npu-move-to-tile</c> writes the op as tile moves.</summary>
public static class DmaKernels
{
    private const int MaxDim = 65535;

    /// <summary>Why a table cannot be gathered by the DMA (elements it cannot move, a row wider than a DMA dim or than
    /// half of SRAM, more rows than the descriptor's int32 row count), or null.</summary>
    public static string? GatherReason(long rows, long cols, int elem, long halfSram) =>
        elem is not (1 or 2 or 4) ? $"a gather of {elem}-byte elements (the DMA moves 1, 2 or 4)"
        : cols is < 1 or > MaxDim ? "table rows wider than the DMA's 65535 elements"
        : rows is < 1 or > int.MaxValue ? "a table of more than 2^31 rows"
        : (cols * elem) + 8 > halfSram - 128 ? "one table row does not fit half of SRAM"
        : null;

    /// <summary>Why a pad of these sizes cannot be a padded load (a DMA dim or pad count over 65535, an element the pad
    /// value cannot fill, or one padded slice larger than half of SRAM), or null.</summary>
    public static string? PadReason(long n, long inner, long before, long after, int elem, long halfSram) =>
        elem is not (1 or 2 or 4) ? $"a pad of {elem}-byte elements (the DMA pads 1, 2 or 4 bytes)"
        : new[] { n, inner, before + n + after }.Any(d => d is < 1 or > MaxDim) || before > MaxDim || after > MaxDim ? "a padded dim beyond the DMA's 65535"
        : (before + n + after) * inner * elem > halfSram ? "one padded slice does not fit half of SRAM"
        : null;
}
