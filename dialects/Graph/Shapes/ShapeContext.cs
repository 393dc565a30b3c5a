namespace Tessera.Dialects.Graph;

/// <summary>
/// A shape function: the result shapes of one graph op from its input shapes, constant input values and attributes.
/// Returns null when nothing can be said; a null entry means that result's shape is unknown (unranked).
/// </summary>
public delegate IReadOnlyList<Dim[]?>? ShapeFn(ShapeContext c);

/// <summary>What a shape function sees: the op (attributes), each input's shape and, lazily, constant input values.</summary>
public sealed class ShapeContext(Operation op, IReadOnlyList<Dim[]?> inputs, IReadOnlyList<bool> present, Func<int, NDArray?> value)
{
    private readonly Dictionary<int, NDArray?> _values = [];

    public Operation Op { get; } = op;

    /// <summary>Input shapes; null for an absent (graph.none) or unranked input.</summary>
    public IReadOnlyList<Dim[]?> Inputs { get; } = inputs;
    public int NumInputs => Inputs.Count;
    public int NumResults => Op.NumResults;
    public int Opset => (int)(Op.GetAttr<IntegerAttr>(GraphDialect.OpsetAttr)?.Value ?? 0);

    /// <summary>Whether input <paramref name="i"/> exists and is not an omitted optional input.</summary>
    public bool Has(int i) => i < present.Count && present[i];

    public Dim[]? In(int i) => i < Inputs.Count ? Inputs[i] : null;

    /// <summary>The value of input <paramref name="i"/> when it is known at compile time (a small constant).</summary>
    public NDArray? Value(int i)
    {
        if (!Has(i))
        {
            return null;
        }

        if (!_values.TryGetValue(i, out var v))
        {
            _values[i] = v = value(i);
        }

        return v;
    }

    /// <summary>The integer values of input <paramref name="i"/>, if known.</summary>
    public long[]? Ints(int i) => Value(i) is { I: not null } v ? v.I : null;

    public bool HasAttr(string name) => Op.HasAttr(name);
    public long Int(string name, long def) => Op.GetAttr(name) is IntegerAttr i ? i.Value : def;
    public long? OptInt(string name) => Op.GetAttr(name) is IntegerAttr i ? i.Value : null;
    public string Str(string name, string def) => Op.GetAttr(name) is StringAttr s ? s.Value : def;
    public long[]? IntsAttr(string name) =>
        Op.GetAttr(name) is ArrayAttr a && a.Elements.All(e => e is IntegerAttr) ? a.Elements.Select(e => ((IntegerAttr)e).Value).ToArray() : null;
}

/// <summary>Building blocks of shape functions: symbolic broadcasting, axes, common rule shapes.</summary>
public static class ShapeRules
{
    public static readonly Dim Unknown = Dim.Dynamic();

    public static IReadOnlyList<Dim[]?> One(Dim[]? shape) => [shape];

    /// <summary>Every result has input <paramref name="i"/>'s shape.</summary>
    public static ShapeFn SameAs(int i) => c => Enumerable.Repeat(c.In(i), Math.Max(c.NumResults, 1)).ToArray();

    /// <summary>
    /// Broadcasts two dimensions: equal dims stay, 1 gives the other, a static d ≠ 1 wins over a dynamic dim, two
    /// different dynamic dims give <c>?</c>. Two different static dims other than 1 do not broadcast: null.
    /// </summary>
    public static Dim? Broadcast(Dim a, Dim b)
    {
        if (a == b)
        {
            return a;
        }

        if (!a.IsDynamic && a.Size == 1)
        {
            return b;
        }

        if (!b.IsDynamic && b.Size == 1)
        {
            return a;
        }

        if (!a.IsDynamic && !b.IsDynamic)
        {
            return null;
        }

        return !a.IsDynamic ? a : !b.IsDynamic ? b : Unknown;
    }

    /// <summary>The numpy broadcast of several shapes; null if one is unranked or they do not broadcast.</summary>
    public static Dim[]? Broadcast(IEnumerable<Dim[]?> shapes)
    {
        Dim[]? r = null;
        foreach (var s in shapes)
        {
            if (s is null)
            {
                return null;
            }

            if (r is null)
            {
                r = s;
                continue;
            }

            int rank = Math.Max(r.Length, s.Length);
            var o = new Dim[rank];
            for (int k = 0; k < rank; k++)
            {
                Dim da = k < rank - r.Length ? 1 : r[k - (rank - r.Length)];
                Dim db = k < rank - s.Length ? 1 : s[k - (rank - s.Length)];
                if (Broadcast(da, db) is not { } d)
                {
                    return null;
                }

                o[k] = d;
            }

            r = o;
        }

        return r;
    }

    /// <summary>Broadcasts all present inputs.</summary>
    public static readonly ShapeFn BroadcastAll = c =>
        Enumerable.Range(0, c.NumInputs).Where(c.Has).ToList() is { Count: > 0 } ins && Broadcast(ins.Select(c.In)) is { } s ? One(s) : null;

    /// <summary>A possibly negative axis normalized against <paramref name="rank"/>; null when out of range.</summary>
    public static int? Axis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? (int)a : null;
    }

    public static Dim[] Dims(IEnumerable<long> sizes) => sizes.Select(s => new Dim(s)).ToArray();

    public static Dim[] UnknownDims(long rank) => Enumerable.Repeat(Unknown, (int)rank).ToArray();

    /// <summary>The dims of <paramref name="s"/> with the dims in <paramref name="axes"/> removed, or set to 1 with keepdims.</summary>
    public static Dim[] Reduce(Dim[] s, ISet<int> axes, bool keep)
    {
        var r = new List<Dim>();
        for (int k = 0; k < s.Length; k++)
        {
            if (!axes.Contains(k))
            {
                r.Add(s[k]);
            }
            else if (keep)
            {
                r.Add(1);
            }
        }

        return r.ToArray();
    }

    /// <summary>Normalized, distinct axes; null if one is out of range.</summary>
    public static HashSet<int>? Axes(IEnumerable<long> axes, int rank)
    {
        var set = new HashSet<int>();
        foreach (var a in axes)
        {
            if (Axis(a, rank) is not { } n)
            {
                return null;
            }

            set.Add(n);
        }

        return set;
    }

    /// <summary>A dim times a static factor: static stays static, a dynamic dim survives only a factor of 1.</summary>
    public static Dim Times(Dim d, long f) => !d.IsDynamic ? new Dim(checked(d.Size * f)) : f == 1 ? d : Unknown;
}
