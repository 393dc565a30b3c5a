namespace Tessera.Dialects.Graph;

/// <summary>
/// A dense tensor value for the reference evaluator. Float element types (f16, bf16, f32, f64) hold doubles
/// already rounded to the element type; integer and boolean types hold longs already wrapped to their width.
/// Every kernel computes in double or long and rounds once on the way out, so f32 results are at least as
/// accurate as a float implementation.
/// </summary>
public sealed class NDArray
{
    private NDArray(Type elementType, long[] shape, double[]? f, long[]? i, DenseElementsAttr? opaque = null)
    {
        ElementType = elementType;
        Shape = shape;
        F = f;
        I = i;
        Opaque = opaque;
    }

    public Type ElementType { get; }
    public long[] Shape { get; }

    /// <summary>Data of a float tensor, row-major.</summary>
    public double[]? F { get; }

    /// <summary>Data of an integer or boolean tensor (bool as 0/1), row-major.</summary>
    public long[]? I { get; }

    /// <summary>
    /// The undecoded data of a block-quantized tensor (element type <see cref="BlockQuantType"/>, e.g. weights that
    /// stay <c>!ggml.q4_k</c> in the IR); <see cref="F"/> and <see cref="I"/> are null. Only ops that take
    /// block-quantized inputs (graph.dequantize_ggml) read it.
    /// </summary>
    public DenseElementsAttr? Opaque { get; }

    public bool IsOpaque => Opaque is not null;
    public bool IsFloat => F is not null;
    public int Rank => Shape.Length;
    public long Length => F?.LongLength ?? I?.LongLength ?? Count(Shape);

    /// <summary>A tensor that holds block-quantized data undecoded. Throws <see cref="EvalException"/> if the bytes do not fit the shape.</summary>
    public static NDArray FromOpaque(DenseElementsAttr d)
    {
        if (d.ShapedType.ElementType is not BlockQuantType b)
        {
            throw new EvalException($"an opaque tensor needs a block-quantized element type, not {d.ShapedType.ElementType}");
        }

        var shape = d.ShapedType.Shape?.Select(x => x.Size).ToArray() ?? throw new EvalException($"{d.ShapedType} has no static shape");
        long n = Count(shape);
        long? bytes = b.ByteSize(n);
        if (d.IsSplat || bytes != d.Storage.Length || (shape.Length > 0 && shape[^1] % b.BlockSize != 0))
        {
            throw new EvalException($"{d.ShapedType} needs rows of whole {b.BlockSize}-weight blocks and {bytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} bytes, but holds {d.Storage.Length}{(d.IsSplat ? " (splat)" : "")}");
        }

        return new NDArray(b, shape, null, null, d);
    }
    public TensorType Type => new(Shape.Select(d => new Dim(d)).ToArray(), ElementType);

    public static long Count(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new EvalException($"negative dimension {d} in shape [{string.Join(", ", shape)}]");
            }

            n = checked(n * d);
        }

        return n;
    }

    public static bool IsFloatType(Type t) => t is FloatType;

    /// <summary>Creates a tensor, rounding or wrapping the data to <paramref name="elementType"/>.</summary>
    public static NDArray Create(Type elementType, long[] shape, double[] data)
    {
        if (elementType is FloatType ft)
        {
            if (ft.Kind == FloatKind.F32)
            {
                for (long k = 0; k < data.LongLength; k++)
                {
                    data[k] = (float)data[k];
                }
            }
            else if (ft.Kind != FloatKind.F64)
            {
                for (long k = 0; k < data.LongLength; k++)
                {
                    data[k] = FloatFormat.RoundTo(data[k], ft);
                }
            }

            Check(shape, data.LongLength);
            return new NDArray(elementType, shape, data, null);
        }

        var ints = new long[data.LongLength];
        for (long k = 0; k < data.LongLength; k++)
        {
            ints[k] = SaturatingToLong(data[k]);
        }

        return Create(elementType, shape, ints);
    }

    /// <summary>Creates a tensor of integers; for a float element type the values are converted.</summary>
    public static NDArray Create(Type elementType, long[] shape, long[] data)
    {
        if (elementType is FloatType)
        {
            return Create(elementType, shape, data.Select(v => (double)v).ToArray());
        }

        if (elementType is not (IntegerType or IndexType))
        {
            throw new EvalException($"the evaluator has no tensors of {elementType}");
        }

        for (long k = 0; k < data.LongLength; k++)
        {
            data[k] = Wrap(data[k], elementType);
        }

        Check(shape, data.LongLength);
        return new NDArray(elementType, shape, null, data);
    }

    public static NDArray Scalar(Type elementType, double v) => Create(elementType, [], [v]);

    private static void Check(long[] shape, long length)
    {
        if (Count(shape) != length)
        {
            throw new EvalException($"shape [{string.Join(", ", shape)}] does not hold {length} elements");
        }
    }

    /// <summary>Two's-complement wrap to the type's width; i1 keeps any non-zero as 1.</summary>
    public static long Wrap(long v, Type t) => t switch
    {
        IntegerType { Width: 1 } => v != 0 ? 1 : 0,
        IntegerType { Width: < 64 } it => it.IsUnsigned
            ? (long)((ulong)v << (64 - it.Width) >> (64 - it.Width))
            : v << (64 - it.Width) >> (64 - it.Width),
        _ => v,
    };

    public static long SaturatingToLong(double d) =>
        double.IsNaN(d) ? 0 : d >= 9.2233720368547758E18 ? long.MaxValue : d <= -9.2233720368547758E18 ? long.MinValue : (long)d;

    public double GetF(long k) => F is not null ? F[k] : NotOpaque().ElementType is IntegerType { IsUnsigned: true, Width: 64 } ? (ulong)I![k] : I![k];
    public long GetI(long k) => I is not null ? I[k] : SaturatingToLong(NotOpaque().F![k]);

    /// <summary>All elements as doubles (a copy for integer tensors).</summary>
    public double[] AsDoubles() => F ?? NotOpaque().I!.Select(v => ElementType is IntegerType { IsUnsigned: true, Width: 64 } ? (double)(ulong)v : v).ToArray();

    public long[] AsLongs() => I ?? NotOpaque().F!.Select(SaturatingToLong).ToArray();

    public NDArray Reshape(long[] shape)
    {
        NotOpaque();
        Check(shape, Length);
        return new NDArray(ElementType, shape, F, I);
    }

    private NDArray NotOpaque() => Opaque is null ? this
        : throw new EvalException($"a tensor of {ElementType} is block-quantized; dequantize it (graph.dequantize_ggml) before computing on it");

    /// <summary>Row-major strides of a shape.</summary>
    public static long[] Strides(IReadOnlyList<long> shape)
    {
        var s = new long[shape.Count];
        long acc = 1;
        for (int d = shape.Count - 1; d >= 0; d--)
        {
            s[d] = acc;
            acc *= shape[d];
        }

        return s;
    }

    /// <summary>The numpy-style broadcast of two shapes, or an error naming both.</summary>
    public static long[] BroadcastShape(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        int rank = Math.Max(a.Count, b.Count);
        var r = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i < rank - a.Count ? 1 : a[i - (rank - a.Count)];
            long db = i < rank - b.Count ? 1 : b[i - (rank - b.Count)];
            if (da != db && da != 1 && db != 1)
            {
                throw new EvalException($"shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast");
            }

            r[i] = da == 1 ? db : da;
        }

        return r;
    }

    /// <summary>For each element of <paramref name="outShape"/>, the index of the element of <paramref name="inShape"/> it reads under broadcasting.</summary>
    public static long[] BroadcastIndex(IReadOnlyList<long> inShape, long[] outShape)
    {
        long n = Count(outShape);
        var map = new long[n];
        int rank = outShape.Length;
        int offset = rank - inShape.Count;
        var inStrides = Strides(inShape);
        var idx = new long[rank];
        for (long k = 0; k < n; k++)
        {
            long src = 0;
            for (int d = offset; d < rank; d++)
            {
                if (inShape[d - offset] != 1)
                {
                    src += idx[d] * inStrides[d - offset];
                }
            }

            map[k] = src;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d])
                {
                    break;
                }

                idx[d] = 0;
            }
        }

        return map;
    }

    /// <summary>Broadcasts to <paramref name="shape"/> (a copy).</summary>
    public NDArray BroadcastTo(long[] shape)
    {
        NotOpaque();
        var map = BroadcastIndex(Shape, shape);
        return F is not null
            ? new NDArray(ElementType, shape, map.Select(k => F[k]).ToArray(), null)
            : new NDArray(ElementType, shape, null, map.Select(k => I![k]).ToArray());
    }

    public override string ToString() => Opaque is not null ? $"{Type} [{Opaque.Storage.Length} bytes block-quantized]" : $"{Type} [{string.Join(", ", (F?.Take(8).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)) ?? I!.Take(8).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))))}{(Length > 8 ? ", ..." : "")}]";
}

/// <summary>A user-facing evaluation error (bad shapes, missing inputs); becomes a coded diagnostic at the op.</summary>
public sealed class EvalException(string message) : Exception(message);
