namespace Tessera.Dialects.Graph;

// Cast, CastLike and Clip.
public static partial class ElementwiseOps
{
    /// <summary>Cast's result type: the ONNX data type number in 'to' (opset 6 on), or its name (opset 1).</summary>
    private static Type? CastResultType(TypeRuleContext c, int index) => c.Attr("to") switch
    {
        IntegerAttr i => OnnxTypes.ToIr((int)i.Value),
        StringAttr s => DtypeFromName(s.Value) is int dt ? OnnxTypes.ToIr(dt) : null,
        _ => null,
    };

    private static int? DtypeFromName(string name)
    {
        for (int dt = 1; dt <= 23; dt++)
        {
            if (string.Equals(OnnxTypes.Name(dt), name, StringComparison.OrdinalIgnoreCase))
            {
                return dt;
            }
        }

        return null;
    }

    private static IReadOnlyList<NDArray> Cast(KernelContext k)
    {
        var attr = k.Op.GetAttr("to");
        int? dt = attr switch
        {
            IntegerAttr i => (int)i.Value,
            StringAttr s => DtypeFromName(s.Value),
            _ => null,
        };
        var to = (dt is int d ? OnnxTypes.ToIr(d) : null) ?? (attr is null ? k.ResultElementType(0) : null)
            ?? throw new EvalException($"Cast to {(dt is int d2 ? OnnxTypes.Name(d2) : "an unknown type")} is not supported");
        return [CastTo(k.In(0), to)];
    }

    private static IReadOnlyList<NDArray> CastLike(KernelContext k) => [CastTo(k.In(0), k.In(1).ElementType)];

    /// <summary>Converts a tensor: floats to integers truncate toward zero and wrap; anything to bool is "not zero".</summary>
    public static NDArray CastTo(NDArray x, Type to)
    {
        var shape = (long[])x.Shape.Clone();
        if (to is FloatType)
        {
            return NDArray.Create(to, shape, (double[])x.AsDoubles().Clone());
        }

        if (to is not IntegerType target)
        {
            throw new EvalException($"Cast to {to} is not supported");
        }

        if (!x.IsFloat)
        {
            return NDArray.Create(to, shape, (long[])x.I!.Clone());
        }

        var src = x.F!;
        var r = new long[src.LongLength];
        for (long i = 0; i < r.LongLength; i++)
        {
            double v = src[i];
            r[i] = target.Width == 1 ? (v != 0 ? 1 : 0)
                : target is { IsUnsigned: true, Width: 64 } && v >= 9.2233720368547758E18 && v < 1.8446744073709552E19 ? (long)(ulong)v
                : NDArray.SaturatingToLong(Math.Truncate(v));
        }

        return NDArray.Create(to, shape, r);
    }

    private static IReadOnlyList<NDArray> Clip(KernelContext k)
    {
        var x = k.In(0);
        if (k.Opset is > 0 and < 11)
        {
            double lo = k.Float("min", double.NegativeInfinity), hi = k.Float("max", double.PositiveInfinity);
            return [ElementwiseOpsHelpers.UnaryF(x, v => Math.Min(Math.Max(v, lo), hi))];
        }

        var min = k.Input(1) is { Length: > 0 } mn ? mn : null;
        var max = k.Input(2) is { Length: > 0 } mx ? mx : null;
        if (x.IsFloat)
        {
            double lo = min?.GetF(0) ?? double.NegativeInfinity, hi = max?.GetF(0) ?? double.PositiveInfinity;
            return [ElementwiseOpsHelpers.UnaryF(x, v => Math.Min(Math.Max(v, lo), hi))];
        }

        bool u64 = ElementwiseOpsHelpers.IsU64(x.ElementType);
        long? ilo = min?.GetI(0), ihi = max?.GetI(0);
        return [ElementwiseOpsHelpers.UnaryI(x, v =>
        {
            if (ilo is long l && ElementwiseOpsHelpers.Cmp(v, l, u64) < 0)
            {
                v = l;
            }

            if (ihi is long h && ElementwiseOpsHelpers.Cmp(v, h, u64) > 0)
            {
                v = h;
            }

            return v;
        })];
    }
}
