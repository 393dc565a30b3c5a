namespace Tessera.Dialects.Graph;

/// <summary>Broadcasting element loops shared by the elementwise kernels. Floats compute in double, integers in long.</summary>
internal static class ElementwiseOpsHelpers
{
    public static bool IsU64(Type t) => t is IntegerType { IsUnsigned: true, Width: 64 };

    public static bool IsUnsigned(Type t) => t is IntegerType { IsUnsigned: true };

    /// <summary>Compares two integers of element type <paramref name="t"/> (u64 values are stored as longs).</summary>
    public static int Cmp(long a, long b, bool u64) => u64 ? ((ulong)a).CompareTo((ulong)b) : a.CompareTo(b);

    /// <summary>The broadcast index map of <paramref name="x"/> into <paramref name="shape"/>; null where no broadcast is needed.</summary>
    public static long[]? Map(NDArray x, long[] shape) => x.Shape.AsSpan().SequenceEqual(shape) ? null : NDArray.BroadcastIndex(x.Shape, shape);

    public static long[] BroadcastAll(IEnumerable<NDArray> xs)
    {
        long[]? shape = null;
        foreach (var x in xs)
        {
            shape = shape is null ? (long[])x.Shape.Clone() : NDArray.BroadcastShape(shape, x.Shape);
        }

        return shape ?? [];
    }

    public static NDArray UnaryF(NDArray x, Func<double, double> f, Type? outType = null)
    {
        var src = x.AsDoubles();
        var r = new double[src.LongLength];
        for (long k = 0; k < r.LongLength; k++)
        {
            r[k] = f(src[k]);
        }

        return NDArray.Create(outType ?? x.ElementType, (long[])x.Shape.Clone(), r);
    }

    public static NDArray UnaryI(NDArray x, Func<long, long> f, Type? outType = null)
    {
        var src = x.AsLongs();
        var r = new long[src.LongLength];
        for (long k = 0; k < r.LongLength; k++)
        {
            r[k] = f(src[k]);
        }

        return NDArray.Create(outType ?? x.ElementType, (long[])x.Shape.Clone(), r);
    }

    /// <summary>Float path for float tensors; <paramref name="fi"/> (if given) for integer tensors, else the float path truncated.</summary>
    public static NDArray Unary(NDArray x, Func<double, double> f, Func<long, long>? fi = null) =>
        x.IsFloat || fi is null ? UnaryF(x, f) : UnaryI(x, fi);

    public static NDArray UnaryBool(NDArray x, Func<double, bool> f) =>
        UnaryF(x, v => f(v) ? 1 : 0, IntegerType.I1);

    public static NDArray BinaryF(NDArray a, NDArray b, Func<double, double, double> f, Type outType)
    {
        var shape = NDArray.BroadcastShape(a.Shape, b.Shape);
        long n = NDArray.Count(shape);
        var da = a.AsDoubles();
        var db = b.AsDoubles();
        var r = new double[n];
        // Scalars (the usual broadcast in exported graphs: x * 0.5, x + eps) need no index map.
        if (da.Length == 1 || db.Length == 1)
        {
            var ma1 = da.Length == 1 ? null : Map(a, shape);
            var mb1 = db.Length == 1 ? null : Map(b, shape);
            for (long k = 0; k < n; k++)
            {
                r[k] = f(da.Length == 1 ? da[0] : da[ma1 is null ? k : ma1[k]], db.Length == 1 ? db[0] : db[mb1 is null ? k : mb1[k]]);
            }

            return NDArray.Create(outType, shape, r);
        }

        var ma = Map(a, shape);
        var mb = Map(b, shape);
        for (long k = 0; k < n; k++)
        {
            r[k] = f(da[ma is null ? k : ma[k]], db[mb is null ? k : mb[k]]);
        }

        return NDArray.Create(outType, shape, r);
    }

    public static NDArray BinaryI(NDArray a, NDArray b, Func<long, long, long> f, Type outType)
    {
        var shape = NDArray.BroadcastShape(a.Shape, b.Shape);
        long n = NDArray.Count(shape);
        var ma = Map(a, shape);
        var mb = Map(b, shape);
        var ia = a.AsLongs();
        var ib = b.AsLongs();
        var r = new long[n];
        for (long k = 0; k < n; k++)
        {
            r[k] = f(ia[ma is null ? k : ma[k]], ib[mb is null ? k : mb[k]]);
        }

        return NDArray.Create(outType, shape, r);
    }

    /// <summary>A binary op on two tensors of one type: the float function for floats, the integer one otherwise (told whether the type is u64).</summary>
    public static NDArray Binary(NDArray a, NDArray b, Func<double, double, double> f, Func<long, long, bool, long> fi, Type? outType = null)
    {
        var t = outType ?? a.ElementType;
        if (a.IsFloat || b.IsFloat)
        {
            return BinaryF(a, b, f, t);
        }

        bool u64 = IsU64(a.ElementType);
        return BinaryI(a, b, (x, y) => fi(x, y, u64), t);
    }

    /// <summary>A comparison with a boolean result.</summary>
    public static NDArray Compare(NDArray a, NDArray b, Func<double, double, bool> f, Func<int, bool> fromCmp)
    {
        if (a.IsFloat || b.IsFloat)
        {
            return BinaryF(a, b, (x, y) => f(x, y) ? 1 : 0, IntegerType.I1);
        }

        bool u64 = IsU64(a.ElementType);
        return BinaryI(a, b, (x, y) => fromCmp(Cmp(x, y, u64)) ? 1 : 0, IntegerType.I1);
    }

    /// <summary>
    /// The two operands of a binary op. Before opset 7 an explicit <c>broadcast</c> attribute let B (a suffix of A's
    /// shape, or a run of A's dimensions starting at <c>axis</c>) broadcast to A; that becomes numpy broadcasting here.
    /// </summary>
    public static (NDArray A, NDArray B) Operands(KernelContext k)
    {
        var a = k.In(0);
        var b = k.In(1);
        if (k.Opset is > 0 and < 7 && k.Int("broadcast", 0) != 0 && k.OptInt("axis") is long axis)
        {
            int ax = KernelContext.Axis(axis, a.Rank);
            int trailing = a.Rank - ax - b.Rank;
            if (trailing < 0)
            {
                throw new EvalException($"B of rank {b.Rank} does not fit A of rank {a.Rank} at axis {axis}");
            }

            if (trailing > 0)
            {
                b = b.Reshape([.. b.Shape, .. Enumerable.Repeat(1L, trailing)]);
            }
        }

        return (a, b);
    }

    /// <summary>Folds a variadic op over its inputs with broadcasting; floats accumulate unrounded in f64.</summary>
    public static NDArray Variadic(KernelContext k, Func<double, double, double> f, Func<long, long, bool, long> fi, Func<double, double>? finish = null, Func<double, long>? finishI = null)
    {
        if (k.NumInputs == 0)
        {
            throw new EvalException("the op needs at least one input");
        }

        var first = k.In(0);
        var type = first.ElementType;
        bool isFloat = first.IsFloat;
        var acc = isFloat ? UnaryF(first, v => v, FloatType.F64) : first;
        for (int i = 1; i < k.NumInputs; i++)
        {
            acc = Binary(acc, k.In(i), f, (x, y, _) => fi(x, y, IsU64(type)), isFloat ? FloatType.F64 : type);
        }

        if (isFloat)
        {
            return UnaryF(acc, finish ?? (v => v), type);
        }

        return finishI is null ? acc : UnaryI(acc, v => finishI(IsU64(type) ? (ulong)v : v), type);
    }

    /// <summary>erf(x) to about double precision: the everywhere-positive series exp(-x²)·Σ 2ⁿx²ⁿ⁺¹/(1·3···(2n+1)).</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        double ax = Math.Abs(x);
        if (ax >= 6)
        {
            return Math.Sign(x);
        }

        double term = ax, sum = ax, x2 = ax * ax;
        for (int n = 1; n < 500; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17)
            {
                break;
            }
        }

        double r = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
        return x < 0 ? -r : r;
    }

    /// <summary>log(1 + exp(x)) without overflow.</summary>
    public static double Softplus(double x) => x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));

    /// <summary>log(1 + x), accurate for small x.</summary>
    public static double Log1P(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : double.IsInfinity(u) ? u : Math.Log(u) * x / (u - 1);
    }

    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
