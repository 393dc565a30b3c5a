namespace Tessera.Dialects.Graph;

/// <summary>Between dense attributes (what the IR stores) and <see cref="NDArray"/> (what kernels compute on).</summary>
public static class Convert
{
    public static NDArray FromAttr(DenseElementsAttr d)
    {
        var st = d.ShapedType;
        if (st.ElementType is BlockQuantType)
        {
            return NDArray.FromOpaque(d);
        }

        var shape = st.Shape!.Select(x => x.Size).ToArray();
        long n = d.ElementCount;
        if (st.ElementType is FloatType ft)
        {
            var data = new double[n];
            if (!d.IsSplat && ft.Kind == FloatKind.F32 && d.Storage.Length <= int.MaxValue)
            {
                var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(d.Storage.Span);
                for (int k = 0; k < floats.Length; k++)
                {
                    data[k] = floats[k];
                }
            }
            else
            {
                for (long k = 0; k < n; k++)
                {
                    data[k] = d.GetDouble(k);
                }
            }

            return NDArray.Create(st.ElementType, shape, data);
        }

        var ints = new long[n];
        for (long k = 0; k < n; k++)
        {
            ints[k] = d.GetLong(k);
        }

        return NDArray.Create(st.ElementType, shape, ints);
    }

    public static DenseElementsAttr ToAttr(NDArray a) =>
        a.Opaque ?? (a.IsFloat ? DenseElementsAttr.FromDoubles(a.Type, a.F!) : DenseElementsAttr.FromLongs(a.Type, a.I!));
}
