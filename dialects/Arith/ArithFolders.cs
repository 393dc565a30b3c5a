using Tessera.IR;

namespace Tessera.Dialects;

public sealed partial class ArithDialect
{
    /// <summary>Dense constants up to this many elements are folded elementwise; larger ones only as splats.</summary>
    private const long MaxFoldElements = 4096;

    private static OpDef IntBinary(string name, string summary, OpTraits traits, Func<long, long, long?> f) =>
        OpDef.Define(name, summary)
            .Operand("lhs", TC.IntLike).Operand("rhs", TC.IntLike).Result("result", TC.IntLike)
            .With(traits)
            .Fold((op, c) => FoldIdentities(op) ?? FoldBinary(op, c, (a, b) => f(a, b), null));

    private static OpDef FloatBinary(string name, string summary, OpTraits traits, Func<double, double, double> f) =>
        OpDef.Define(name, summary)
            .Operand("lhs", TC.FloatLike).Operand("rhs", TC.FloatLike).Result("result", TC.FloatLike)
            .With(traits)
            .Fold((op, c) => FoldIdentities(op) ?? FoldBinary(op, c, null, f));

    /// <summary>Algebraic identities that hold whatever the non-constant operand is.</summary>
    private static IReadOnlyList<FoldResult>? FoldIdentities(Operation op)
    {
        var lhs = op.Operand(0);
        var rhs = op.Operand(1);
        bool same = ReferenceEquals(lhs, rhs);
        switch (op.Name)
        {
            case "arith.addi" when IsInt(rhs, 0): return [lhs];                 // x + 0 -> x
            case "arith.subi" when IsInt(rhs, 0): return [lhs];                 // x - 0 -> x
            case "arith.subi" when same: return Zero(op);                       // x - x -> 0
            case "arith.muli" when IsInt(rhs, 1): return [lhs];                 // x * 1 -> x
            case "arith.muli" when IsInt(rhs, 0): return [rhs];                 // x * 0 -> 0
            case "arith.divsi" when IsInt(rhs, 1): return [lhs];                // x / 1 -> x
            case "arith.andi" or "arith.ori" when same: return [lhs];           // x & x -> x, x | x -> x
            case "arith.xori" when same: return Zero(op);                       // x ^ x -> 0
            case "arith.xori" or "arith.ori" when IsInt(rhs, 0): return [lhs];  // x ^ 0 -> x, x | 0 -> x
            case "arith.addf" when IsFloat(rhs, -0.0, exactBits: true): return [lhs]; // x + -0.0 -> x (also for x = +0.0)
            case "arith.subf" when IsFloat(rhs, 0.0, exactBits: true): return [lhs];  // x - 0.0 -> x
            case "arith.mulf" or "arith.divf" when IsFloat(rhs, 1.0, exactBits: false): return [lhs]; // x * 1.0, x / 1.0 -> x
            case "arith.maximumf" or "arith.minimumf" when same: return [lhs];
            default: return null;
        }
    }

    private static bool IsInt(Value v, long k) => ConstValue(v) switch
    {
        IntegerAttr i => i.Value == k,
        DenseElementsAttr { IsSplat: true } d when d.ShapedType.ElementType is IntegerType or IndexType => d.GetLong(0) == k,
        _ => false,
    };

    private static bool IsFloat(Value v, double k, bool exactBits)
    {
        double? x = ConstValue(v) switch
        {
            FloatAttr f => f.Value,
            DenseElementsAttr { IsSplat: true } d when d.ShapedType.ElementType is FloatType => d.GetDouble(0),
            _ => null,
        };
        return x is double d2 && (exactBits ? BitConverter.DoubleToInt64Bits(d2) == BitConverter.DoubleToInt64Bits(k) : d2 == k);
    }

    private static Attribute? ConstValue(Value v) =>
        v.DefiningOp is { } d && d.HasTrait(OpTraits.ConstantLike) ? d.GetAttr("value") : null;

    private static IReadOnlyList<FoldResult>? Zero(Operation op)
    {
        var t = op.Result(0).Type;
        return t switch
        {
            IntegerType or IndexType => [new IntegerAttr(0, t)],
            ShapedType { HasStaticShape: true } st when st.ElementType is IntegerType => [DenseElementsAttr.FromLongs(st, [0])],
            _ => null,
        };
    }

    /// <summary>Wraps an integer result to the type's width (two's complement), as the hardware does.</summary>
    public static long Wrap(long v, Type t)
    {
        if (t is not IntegerType { Width: < 64 } it)
        {
            return v;
        }

        if (it.Width == 1)
        {
            return v & 1;
        }

        int shift = 64 - it.Width;
        return it.IsUnsigned ? (long)((ulong)v << shift >> shift) : v << shift >> shift;
    }

    private static IReadOnlyList<FoldResult>? FoldBinary(Operation op, IReadOnlyList<Attribute?> c, Func<long, long, long?>? fi, Func<double, double, double>? ff)
    {
        var type = op.Result(0).Type;
        switch (c[0], c[1])
        {
            case (IntegerAttr a, IntegerAttr b) when fi is not null:
                return fi(a.Value, b.Value) is long r ? [new IntegerAttr(Wrap(r, type), type)] : null;
            case (FloatAttr a, FloatAttr b) when ff is not null && type is FloatType ft:
                return [new FloatAttr(ff(a.Value, b.Value), ft)];
            case (DenseElementsAttr a, DenseElementsAttr b) when a.ShapedType == b.ShapedType && type is ShapedType st:
                return FoldDense(a, b, st, fi, ff);
            default:
                return null;
        }
    }

    private static IReadOnlyList<FoldResult>? FoldDense(DenseElementsAttr a, DenseElementsAttr b, ShapedType st, Func<long, long, long?>? fi, Func<double, double, double>? ff)
    {
        bool splat = a.IsSplat && b.IsSplat;
        long n = splat ? 1 : a.ElementCount;
        if (n > MaxFoldElements)
        {
            return null;
        }

        if (st.ElementType is FloatType && ff is not null)
        {
            var vals = new double[n];
            for (long i = 0; i < n; i++)
            {
                vals[i] = ff(a.GetDouble(i), b.GetDouble(i));
            }

            return [new DenseElementsAttr(st, new ArrayStorage(ElementCodec.Encode(st.ElementType, vals)), splat && st.ElementCount != 1)];
        }

        if (st.ElementType is IntegerType or IndexType && fi is not null)
        {
            var vals = new long[n];
            for (long i = 0; i < n; i++)
            {
                if (fi(a.GetLong(i), b.GetLong(i)) is not long r)
                {
                    return null;
                }

                vals[i] = Wrap(r, st.ElementType);
            }

            return [new DenseElementsAttr(st, new ArrayStorage(ElementCodec.EncodeInts(st.ElementType, vals)), splat && st.ElementCount != 1)];
        }

        return null;
    }

    private static IReadOnlyList<FoldResult>? FoldUnaryFloat(Operation op, IReadOnlyList<Attribute?> c, Func<double, double> f)
    {
        // negf(negf(x)) -> x
        if (op.HasTrait(OpTraits.Involution) && op.Operand(0).DefiningOp is { } inner && inner.Name == op.Name)
        {
            return [inner.Operand(0)];
        }

        return c[0] switch
        {
            FloatAttr a => [new FloatAttr(f(a.Value), a.FloatType)],
            _ => null,
        };
    }

    private static IReadOnlyList<FoldResult>? FoldCmpI(Operation op, IReadOnlyList<Attribute?> c)
    {
        var pred = op.GetAttr<StringAttr>("predicate")?.Value;
        if (pred is null || c[0] is not IntegerAttr a || c[1] is not IntegerAttr b)
        {
            if (pred is not null && ReferenceEquals(op.Operand(0), op.Operand(1)) && op.Result(0).Type is IntegerType)
            {
                // x == x, x <= x, ... are true; x != x, x < x, ... are false.
                return [new IntegerAttr(pred is "eq" or "sle" or "sge" or "ule" or "uge" ? 1 : 0, IntegerType.I1)];
            }

            return null;
        }

        ulong ua = (ulong)a.Value, ub = (ulong)b.Value;
        bool r = pred switch
        {
            "eq" => a.Value == b.Value,
            "ne" => a.Value != b.Value,
            "slt" => a.Value < b.Value,
            "sle" => a.Value <= b.Value,
            "sgt" => a.Value > b.Value,
            "sge" => a.Value >= b.Value,
            "ult" => ua < ub,
            "ule" => ua <= ub,
            "ugt" => ua > ub,
            "uge" => ua >= ub,
            _ => throw new InvalidOperationException($"unknown predicate {pred}"),
        };
        return [new IntegerAttr(r ? 1 : 0, IntegerType.I1)];
    }

    private static IReadOnlyList<FoldResult>? FoldSelect(Operation op, IReadOnlyList<Attribute?> c)
    {
        if (ReferenceEquals(op.Operand(1), op.Operand(2)))
        {
            return [op.Operand(1)];                                  // select(c, x, x) -> x
        }

        return c[0] is IntegerAttr cond ? [op.Operand(cond.Value != 0 ? 1 : 2)] : null; // select(true, a, b) -> a
    }

    /// <summary>Builds <c>x op (c1 op c2)</c> for reassociation rules; the constant is folded at once.</summary>
    private static bool ReplaceWithBinaryOfConstants(PatternMatch m, PatternRewriter rw, string opName, Func<long, long, long> f)
    {
        if (m.Attr("c1") is not IntegerAttr c1 || m.Attr("c2") is not IntegerAttr c2 || c1.Type != c2.Type)
        {
            return false;
        }

        var type = m.Root.Result(0).Type;
        var k = rw.Create(Constant, m.Root.Location, [], [type], [new("value", new IntegerAttr(Wrap(f(c1.Value, c2.Value), type), type))]);
        var n = rw.Create(opName, m.Root.Location, [m["x"], k.Result(0)], [type]);
        rw.ReplaceOp(m.Root, n.Result(0));
        return true;
    }
}
