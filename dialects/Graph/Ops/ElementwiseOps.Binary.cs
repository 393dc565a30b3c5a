using static Tessera.Dialects.Graph.ElementwiseOpsHelpers;

namespace Tessera.Dialects.Graph;

// Binary arithmetic, variadic ops, comparisons, logic, bitwise ops and Where.
public static partial class ElementwiseOps
{
    private static IReadOnlyList<NDArray> Add(KernelContext k)
    {
        var (a, b) = Operands(k);
        return [Binary(a, b, (x, y) => x + y, (x, y, _) => unchecked(x + y))];
    }

    private static IReadOnlyList<NDArray> Sub(KernelContext k)
    {
        var (a, b) = Operands(k);
        return [Binary(a, b, (x, y) => x - y, (x, y, _) => unchecked(x - y))];
    }

    private static IReadOnlyList<NDArray> Mul(KernelContext k)
    {
        var (a, b) = Operands(k);
        return [Binary(a, b, (x, y) => x * y, (x, y, _) => unchecked(x * y))];
    }

    private static IReadOnlyList<NDArray> Div(KernelContext k)
    {
        var (a, b) = Operands(k);
        return [Binary(a, b, (x, y) => x / y, IntDiv)];
    }

    /// <summary>Integer division truncating toward zero, as C does.</summary>
    private static long IntDiv(long x, long y, bool u64)
    {
        if (y == 0)
        {
            throw new EvalException("integer division by zero");
        }

        return u64 ? (long)((ulong)x / (ulong)y) : y == -1 ? unchecked(-x) : x / y;
    }

    private static IReadOnlyList<NDArray> Mod(KernelContext k)
    {
        var (a, b) = Operands(k);
        bool fmod = k.Int("fmod", 0) != 0;
        return [Binary(a, b, (x, y) => FloatMod(x, y, fmod), (x, y, u64) => IntMod(x, y, u64, fmod))];
    }

    /// <summary>C fmod (the dividend's sign), or with <paramref name="fmod"/> false numpy's mod (the divisor's sign).</summary>
    private static double FloatMod(double x, double y, bool fmod)
    {
        double r = x % y;
        if (fmod || double.IsNaN(r))
        {
            return r;
        }

        if (r == 0)
        {
            return Math.CopySign(0.0, y);
        }

        return (r < 0) != (y < 0) ? r + y : r;
    }

    private static long IntMod(long x, long y, bool u64, bool fmod)
    {
        if (y == 0)
        {
            throw new EvalException("integer modulo by zero");
        }

        if (u64)
        {
            return (long)((ulong)x % (ulong)y);
        }

        long r = y == -1 ? 0 : x % y;
        return !fmod && r != 0 && (r < 0) != (y < 0) ? r + y : r;
    }

    private static IReadOnlyList<NDArray> Pow(KernelContext k)
    {
        var (a, b) = Operands(k);
        if (a.IsFloat)
        {
            return [BinaryF(a, b, Math.Pow, a.ElementType)];
        }

        if (b.IsFloat)
        {
            return [BinaryF(a, b, (x, y) => Math.Truncate(Math.Pow(x, y)), a.ElementType)];
        }

        bool u64 = IsU64(b.ElementType);
        return [BinaryI(a, b, (x, y) => IntPow(x, y, u64), a.ElementType)];
    }

    /// <summary>Integer power by squaring, wrapping; a negative exponent truncates 1/xⁿ toward zero.</summary>
    private static long IntPow(long x, long y, bool unsignedExponent)
    {
        if (y < 0 && !unsignedExponent)
        {
            return x == 1 ? 1 : x == -1 ? ((y & 1) == 0 ? 1 : -1) : x == 0 ? throw new EvalException("0 to a negative integer power") : 0;
        }

        ulong e = (ulong)y;
        long r = 1, p = x;
        while (e != 0)
        {
            if ((e & 1) != 0)
            {
                r = unchecked(r * p);
            }

            p = unchecked(p * p);
            e >>= 1;
        }

        return r;
    }

    private static IReadOnlyList<NDArray> Max(KernelContext k) =>
        [Variadic(k, (x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Max(x, y), (x, y, u64) => Cmp(x, y, u64) >= 0 ? x : y)];

    private static IReadOnlyList<NDArray> Min(KernelContext k) =>
        [Variadic(k, (x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Min(x, y), (x, y, u64) => Cmp(x, y, u64) <= 0 ? x : y)];

    private static IReadOnlyList<NDArray> Sum(KernelContext k) =>
        [Variadic(k, (x, y) => x + y, (x, y, _) => unchecked(x + y))];

    private static IReadOnlyList<NDArray> Mean(KernelContext k)
    {
        double n = k.NumInputs;
        return [Variadic(k, (x, y) => x + y, (x, y, _) => unchecked(x + y), v => v / n, v => (long)Math.Truncate(v / n))];
    }

    private static Kernel Comparison(Func<double, double, bool> f, Func<int, bool> fromCmp) =>
        k =>
        {
            var (a, b) = Operands(k);
            return [Compare(a, b, f, fromCmp)];
        };

    private static Kernel Logic(Func<long, long, long> f) =>
        k =>
        {
            var (a, b) = Operands(k);
            return [BinaryI(a, b, (x, y) => f(x != 0 ? 1 : 0, y != 0 ? 1 : 0), IntegerType.I1)];
        };

    private static Kernel Bitwise(Func<long, long, long> f) =>
        k => [BinaryI(k.In(0), k.In(1), f, k.In(0).ElementType)];

    private static IReadOnlyList<NDArray> BitShift(KernelContext k)
    {
        var x = k.In(0);
        var y = k.In(1);
        string dir = k.Str("direction", "");
        if (dir is not ("LEFT" or "RIGHT"))
        {
            throw new EvalException($"BitShift direction must be LEFT or RIGHT, not '{dir}'");
        }

        bool left = dir == "LEFT";
        int width = x.ElementType is IntegerType it ? it.Width : 64;
        bool unsigned = IsUnsigned(x.ElementType);
        return [BinaryI(x, y, (v, s) =>
        {
            // A shift by a negative amount or by the width or more shifts every bit out.
            bool all = unsigned ? (ulong)s >= (ulong)width : s < 0 || s >= width;
            if (left)
            {
                return all ? 0 : (long)((ulong)v << (int)s);
            }

            if (all)
            {
                return !unsigned && v < 0 ? -1 : 0;
            }

            return unsigned ? (long)((ulong)v >> (int)s) : v >> (int)s;
        }, x.ElementType)];
    }

    private static IReadOnlyList<NDArray> Where(KernelContext k)
    {
        var c = k.In(0);
        var x = k.In(1);
        var y = k.In(2);
        var shape = BroadcastAll([c, x, y]);
        long n = NDArray.Count(shape);
        var mc = Map(c, shape);
        var mx = Map(x, shape);
        var my = Map(y, shape);
        var cond = c.AsLongs();
        if (x.IsFloat)
        {
            var dx = x.AsDoubles();
            var dy = y.AsDoubles();
            var r = new double[n];
            for (long i = 0; i < n; i++)
            {
                r[i] = cond[mc is null ? i : mc[i]] != 0 ? dx[mx is null ? i : mx[i]] : dy[my is null ? i : my[i]];
            }

            return [NDArray.Create(x.ElementType, shape, r)];
        }

        var ix = x.AsLongs();
        var iy = y.AsLongs();
        var ri = new long[n];
        for (long i = 0; i < n; i++)
        {
            ri[i] = cond[mc is null ? i : mc[i]] != 0 ? ix[mx is null ? i : mx[i]] : iy[my is null ? i : my[i]];
        }

        return [NDArray.Create(x.ElementType, shape, ri)];
    }
}
