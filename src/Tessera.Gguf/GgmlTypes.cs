namespace Tessera.Gguf;

/// <summary>Sizes of the ggml tensor types: weights per block and bytes per block (1 and the element size for plain types).</summary>
public static class GgmlTypes
{
    private static readonly Dictionary<GgmlType, (int BlockSize, int BytesPerBlock)> Sizes = Build();

    private static Dictionary<GgmlType, (int, int)> Build()
    {
        var d = new Dictionary<GgmlType, (int, int)>
        {
            [GgmlType.F32] = (1, 4), [GgmlType.F16] = (1, 2), [GgmlType.BF16] = (1, 2), [GgmlType.F64] = (1, 8),
            [GgmlType.I8] = (1, 1), [GgmlType.I16] = (1, 2), [GgmlType.I32] = (1, 4), [GgmlType.I64] = (1, 8),
            // Formats that Tessera reads but has no IR element type for (yet).
            [GgmlType.IQ2_XXS] = (256, 66), [GgmlType.IQ2_XS] = (256, 74), [GgmlType.IQ3_XXS] = (256, 98),
            [GgmlType.IQ1_S] = (256, 50), [GgmlType.IQ3_S] = (256, 110), [GgmlType.IQ2_S] = (256, 82),
            [GgmlType.IQ1_M] = (256, 56), [GgmlType.TQ1_0] = (256, 54), [GgmlType.TQ2_0] = (256, 66),
        };
        foreach (var q in BlockQuantType.All)
        {
            d[(GgmlType)(int)q.Format] = (q.BlockSize, q.BytesPerBlock);
        }

        return d;
    }

    /// <summary>True for a type number this reader knows the size of.</summary>
    public static bool IsKnown(GgmlType t) => Sizes.ContainsKey(t);

    public static int BlockSize(GgmlType t) => Sizes[t].BlockSize;

    public static int BytesPerBlock(GgmlType t) => Sizes[t].BytesPerBlock;

    public static bool IsQuantized(GgmlType t) => Sizes[t].BlockSize > 1;

    /// <summary>The IR element type of a tensor of <paramref name="t"/>, or null when Tessera has none.</summary>
    public static Type? ElementType(GgmlType t) => t switch
    {
        GgmlType.F32 => FloatType.F32,
        GgmlType.F16 => FloatType.F16,
        GgmlType.BF16 => FloatType.BF16,
        GgmlType.F64 => FloatType.F64,
        GgmlType.I8 => IntegerType.I8,
        GgmlType.I16 => IntegerType.I16,
        GgmlType.I32 => IntegerType.I32,
        GgmlType.I64 => IntegerType.I64,
        _ => BlockQuantType.All.FirstOrDefault(q => (int)q.Format == (int)t),
    };

    /// <summary>
    /// Bytes of a tensor with ggml dims <paramref name="dims"/>, or an error text: dims must be at least 1, the innermost
    /// a whole number of blocks, and the products must fit in a long (checked arithmetic).
    /// </summary>
    public static (long Elements, long Bytes, string? Error, bool Overflow) Size(GgmlType t, IReadOnlyList<long> dims)
    {
        int block = BlockSize(t);
        long n = 1;
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] < 1)
            {
                return (0, 0, $"dimension {i} is {dims[i]}; every dimension must be at least 1", false);
            }

            try
            {
                n = checked(n * dims[i]);
            }
            catch (OverflowException)
            {
                return (0, 0, $"element count overflows ({string.Join(" x ", dims)})", true);
            }
        }

        if (dims.Count > 0 && dims[0] % block != 0)
        {
            return (0, 0, $"innermost dimension {dims[0]} is not a multiple of the {t} block size {block}", false);
        }

        try
        {
            return (n, checked(n / block * BytesPerBlock(t)), null, false);
        }
        catch (OverflowException)
        {
            return (0, 0, $"byte size overflows ({n} elements of {t})", true);
        }
    }
}
