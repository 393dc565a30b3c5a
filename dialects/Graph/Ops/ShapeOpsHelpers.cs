namespace Tessera.Dialects.Graph;

/// <summary>Index arithmetic shared by the shape op kernels: element gathers by index map, odometers, int inputs.</summary>
internal static class ShapeOpsHelpers
{
    /// <summary>A tensor of <paramref name="src"/>'s element type whose element k is src[map[k]], or the fill value where map[k] &lt; 0.</summary>
    public static NDArray Take(NDArray src, long[] shape, long[] map, NDArray? fill = null)
    {
        if (src.F is { } f)
        {
            double fv = fill is null || fill.Length == 0 ? 0 : fill.GetF(0);
            var data = new double[map.LongLength];
            for (long k = 0; k < map.LongLength; k++)
            {
                data[k] = map[k] >= 0 ? f[map[k]] : fv;
            }

            return NDArray.Create(src.ElementType, shape, data);
        }

        var s = src.I!;
        long iv = fill is null || fill.Length == 0 ? 0 : fill.GetI(0);
        var ints = new long[map.LongLength];
        for (long k = 0; k < map.LongLength; k++)
        {
            ints[k] = map[k] >= 0 ? s[map[k]] : iv;
        }

        return NDArray.Create(src.ElementType, shape, ints);
    }

    /// <summary>A copy of <paramref name="a"/> (same type and shape, new data arrays).</summary>
    public static NDArray Copy(NDArray a, long[]? shape = null) =>
        a.F is { } f ? NDArray.Create(a.ElementType, shape ?? (long[])a.Shape.Clone(), (double[])f.Clone())
                     : NDArray.Create(a.ElementType, shape ?? (long[])a.Shape.Clone(), (long[])a.I!.Clone());

    /// <summary>Advances a row-major multi-index over <paramref name="shape"/>.</summary>
    public static void Next(long[] idx, IReadOnlyList<long> shape)
    {
        for (int d = idx.Length - 1; d >= 0; d--)
        {
            if (++idx[d] < shape[d])
            {
                return;
            }

            idx[d] = 0;
        }
    }

    /// <summary>The elements of an integer (or float, truncated) tensor.</summary>
    public static long[] Ints(NDArray a) => a.AsLongs();

    /// <summary>The single value of a scalar or one-element tensor.</summary>
    public static NDArray ScalarOf(NDArray a, string what) =>
        a.Length == 1 ? a : throw new EvalException($"{what} must hold one element but has shape [{string.Join(", ", a.Shape)}]");

    /// <summary>Normalizes an index into [0, dim) allowing negatives, or throws.</summary>
    public static long Index(long i, long dim, string what)
    {
        long r = i < 0 ? i + dim : i;
        if (r < 0 || r >= dim)
        {
            throw new EvalException($"{what} index {i} is out of range for a dimension of size {dim}");
        }

        return r;
    }

    /// <summary>Transposes by <paramref name="perm"/> (output dim d is input dim perm[d]).</summary>
    public static NDArray Permute(NDArray x, IReadOnlyList<int> perm)
    {
        int r = x.Rank;
        var inStrides = NDArray.Strides(x.Shape);
        var outShape = new long[r];
        var strides = new long[r];
        for (int d = 0; d < r; d++)
        {
            outShape[d] = x.Shape[perm[d]];
            strides[d] = inStrides[perm[d]];
        }

        long n = NDArray.Count(outShape);
        var map = new long[n];
        var idx = new long[r];
        for (long k = 0; k < n; k++)
        {
            long src = 0;
            for (int d = 0; d < r; d++)
            {
                src += idx[d] * strides[d];
            }

            map[k] = src;
            Next(idx, outShape);
        }

        return Take(x, outShape, map);
    }

    /// <summary>Combines an existing element with an update under ONNX scatter reductions.</summary>
    public static double Reduce(string reduction, double old, double upd) => reduction switch
    {
        "add" => old + upd,
        "mul" => old * upd,
        "max" => double.IsNaN(old) || double.IsNaN(upd) ? double.NaN : Math.Max(old, upd),
        "min" => double.IsNaN(old) || double.IsNaN(upd) ? double.NaN : Math.Min(old, upd),
        _ => upd,
    };

    public static long Reduce(string reduction, long old, long upd, bool unsigned) => reduction switch
    {
        "add" => unchecked(old + upd),
        "mul" => unchecked(old * upd),
        "max" => unsigned ? (long)Math.Max((ulong)old, (ulong)upd) : Math.Max(old, upd),
        "min" => unsigned ? (long)Math.Min((ulong)old, (ulong)upd) : Math.Min(old, upd),
        _ => upd,
    };

    public static string Reduction(KernelContext k)
    {
        var r = k.Str("reduction", "none");
        return r is "none" or "add" or "mul" or "max" or "min" ? r : throw new EvalException($"unknown reduction '{r}'");
    }

    public static string ShapeText(IReadOnlyList<long> s) => "[" + string.Join(", ", s) + "]";
}
