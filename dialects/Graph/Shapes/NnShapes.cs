using static Tessera.Dialects.Graph.ElementwiseShapes;
using static Tessera.Dialects.Graph.ShapeRules;

namespace Tessera.Dialects.Graph;

/// <summary>Shape rules of convolution and pooling (NC + spatial dims), and of the raised transformer ops.</summary>
public static class NnShapes
{
    public static IEnumerable<(string IrName, ShapeFn Fn)> Rules =>
    [
        (Ir("Conv"), c => Window(c, c.In(1) is { Length: >= 3 } w ? w[0] : null, c.In(1) is { Length: >= 3 } w2 ? w2[2..] : null)),
        (Ir("MaxPool"), c => Pool(c)),
        (Ir("AveragePool"), c => Pool(c)),
        (Ir("LpPool"), c => Pool(c)),
        (Ir("GlobalAveragePool"), Global),
        (Ir("GlobalMaxPool"), Global),
        (Ir("GlobalLpPool"), Global),

        // Raised transformer ops (graph.gelu is the ONNX Gelu rule): input 0's shape; attention takes q's shape with v's head size.
        ("graph.rms_norm", SameAs(0)),
        ("graph.layer_norm", SameAs(0)),
        ("graph.silu", SameAs(0)),
        ("graph.rope", SameAs(0)),
        ("graph.sdpa", c => c.In(0) is { Length: > 0 } q && c.In(2) is { Length: > 0 } v ? One([.. q[..^1], v[^1]]) : null),
    ];

    private static IReadOnlyList<Dim[]?>? Pool(ShapeContext c)
    {
        var r = Window(c, null, null);
        return r is null ? null : Enumerable.Repeat(r[0], Math.Max(c.NumResults, 1)).ToArray();
    }

    private static IReadOnlyList<Dim[]?>? Global(ShapeContext c) =>
        c.In(0) is { Length: >= 2 } x ? One([x[0], x[1], .. Enumerable.Repeat(new Dim(1), x.Length - 2)]) : null;

    /// <summary>
    /// [N, C or M, spatial...] of a sliding window op. <paramref name="channels"/> is the output channel count
    /// (null: the input's), <paramref name="weightKernel"/> the kernel dims from the weight (null: kernel_shape).
    /// </summary>
    private static IReadOnlyList<Dim[]?>? Window(ShapeContext c, Dim? channels, Dim[]? weightKernel)
    {
        if (c.In(0) is not { Length: >= 3 } x)
        {
            return null;
        }

        int n = x.Length - 2;
        var kernel = c.IntsAttr("kernel_shape") is { } ks ? Dims(ks) : weightKernel;
        if (kernel is null || kernel.Length != n || kernel.Any(k => k.IsDynamic))
        {
            return null;
        }

        var strides = c.IntsAttr("strides") ?? Enumerable.Repeat(1L, n).ToArray();
        var dilations = c.IntsAttr("dilations") ?? Enumerable.Repeat(1L, n).ToArray();
        var pads = c.IntsAttr("pads") ?? new long[2 * n];
        string autoPad = c.Str("auto_pad", "NOTSET");
        bool ceil = c.Int("ceil_mode", 0) != 0;
        if (strides.Length != n || dilations.Length != n || pads.Length != 2 * n || strides.Any(s => s <= 0))
        {
            return null;
        }

        var r = new Dim[x.Length];
        r[0] = x[0];
        r[1] = channels ?? x[1];
        for (int k = 0; k < n; k++)
        {
            var d = x[k + 2];
            if (d.IsDynamic)
            {
                r[k + 2] = Unknown;
                continue;
            }

            long size = d.Size, eff = (dilations[k] * (kernel[k].Size - 1)) + 1;
            r[k + 2] = autoPad switch
            {
                "SAME_UPPER" or "SAME_LOWER" => (size + strides[k] - 1) / strides[k],
                "VALID" => Math.Max(((size - eff) / strides[k]) + 1, 0),
                _ => Out(size + pads[k] + pads[k + n] - eff, strides[k], ceil),
            };
        }

        return One(r);
    }

    private static long Out(long span, long stride, bool ceil) =>
        span < 0 ? 0 : (ceil ? (span + stride - 1) / stride : span / stride) + 1;
}
