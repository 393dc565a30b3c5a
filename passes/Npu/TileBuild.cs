using Tessera.Dialects.Tile;

namespace Tessera.Passes.Npu;

/// <summary>Building blocks of the tile.dispatch bodies the <c>npu-*-to-tile</c> passes write.</summary>
internal static class TileBuild
{
    /// <summary>A <c>tile.dispatch</c> standing in for <paramref name="op"/> (its operands <paramref name="inputs"/>, its
    /// result types), placed on the NPU, before <paramref name="op"/>; returns it and its empty body.</summary>
    public static (Operation Dispatch, Block Body) Dispatch(Context ctx, Operation op, IEnumerable<Value> inputs) =>
        Dispatch(ctx, op, op.Name, inputs, [.. op.Results.Select(r => r.Type)]);

    /// <summary>A <c>tile.dispatch</c> named <paramref name="name"/> (what reports call it) of <paramref name="inputs"/>
    /// and <paramref name="results"/>, placed on the NPU, before <paramref name="before"/>.</summary>
    public static (Operation Dispatch, Block Body) Dispatch(Context ctx, Operation before, string name, IEnumerable<Value> inputs, Type[] results)
    {
        var b = new OpBuilder(ctx);
        b.SetInsertionPoint(before);
        var dispatch = b.Create(TileDialect.Dispatch, before.Location, inputs, results,
            [new("op", new StringAttr(name)), new(NpuPlacement.PlaceAttr, new StringAttr(NpuPlacement.Npu))], regions: 1);
        return (dispatch, dispatch.Regions[0].AddBlock());
    }

    /// <summary>Replaces <paramref name="op"/>'s results by <paramref name="dispatch"/>'s (names kept) and erases it.</summary>
    public static void Replace(Operation op, Operation dispatch)
    {
        for (int i = 0; i < op.NumResults; i++)
        {
            dispatch.Result(i).NameHint = op.Result(i).NameHint;
            op.Result(i).ReplaceAllUsesWith(dispatch.Result(i));
        }

        op.Erase();
    }

    /// <summary>A DRAM memref binding of <paramref name="shape"/> added to the dispatch body.</summary>
    public static Value Bind(Block body, long[] shape, Type elem, string name) =>
        Named(body.AddArgument(new MemRefType([.. shape.Select(d => new Dim(d))], elem, MemorySpace.Dram)), name);

    /// <summary>A <c>tile.alloc</c> of a rows × cols tile in <paramref name="space"/> with <paramref name="buffers"/> copies.</summary>
    public static Value Alloc(OpBuilder b, Location loc, string name, long rows, long cols, Type elem, MemorySpace space, int buffers) =>
        Alloc(b, loc, name, [rows, cols], elem, space, buffers);

    /// <summary>A <c>tile.alloc</c> of a tile of <paramref name="shape"/>.</summary>
    public static Value Alloc(OpBuilder b, Location loc, string name, long[] shape, Type elem, MemorySpace space, int buffers)
    {
        var attrs = new List<KeyValuePair<string, Attribute>> { new("name", new StringAttr(name)) };
        if (buffers > 1)
        {
            attrs.Add(new("buffers", IntegerAttr.I64(buffers)));
        }

        return Named(b.Create(TileDialect.Alloc, loc, [], [new MemRefType([.. shape.Select(d => new Dim(d))], elem, space)], attrs).Result(0), name);
    }

    /// <summary>The index constant 0.</summary>
    public static Value Zero(OpBuilder b, Location loc) => Index(b, loc, 0);

    /// <summary>An index constant, named c<paramref name="value"/>.</summary>
    public static Value Index(OpBuilder b, Location loc, long value) =>
        Named(b.Create("arith.constant", loc, [], [IndexType.Instance], [new("value", new IntegerAttr(value, IndexType.Instance))]).Result(0), "c" + value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A <c>tile.for</c> from <paramref name="lower"/> to <paramref name="upper"/> by <paramref name="step"/>;
    /// returns a builder at the end of its body and its induction variable.</summary>
    public static (OpBuilder Body, Value Iv) For(OpBuilder outer, Location loc, long upper, long step, string name, long lower = 0)
    {
        var loop = outer.Create(TileDialect.For, loc, [], [], [new("lower", IntegerAttr.I64(lower)), new("upper", IntegerAttr.I64(upper)), new("step", IntegerAttr.I64(step))], regions: 1);
        var block = loop.Regions[0].AddBlock();
        var iv = Named(block.AddArgument(IndexType.Instance), name);
        var inner = new OpBuilder(outer.Context);
        inner.SetInsertionPointToEnd(block);
        return (inner, iv);
    }

    /// <summary>A <c>tile.load</c> or <c>tile.store</c> of the tile at <paramref name="indices"/>; a load with
    /// <paramref name="sizes"/> fills only that leading part of the tile.</summary>
    public static void Move(OpBuilder b, OpDef def, Value src, Value dst, Value[] indices, bool transpose, Location loc, (long Rows, long Cols)? sizes = null)
    {
        var attrs = new List<KeyValuePair<string, Attribute>>();
        if (sizes is { } s)
        {
            attrs.Add(new("sizes", ArrayAttr.OfInts([s.Rows, s.Cols])));
        }

        if (transpose)
        {
            attrs.Add(new("transpose", UnitAttr.Instance));
        }

        b.Create(def, loc, [src, dst, .. indices], [], attrs);
    }

    /// <summary><c>tile.vector</c>: dst = kind(a[, other]).</summary>
    public static void Vector(OpBuilder b, Location loc, string kind, Value dst, Value a, Value? other = null) =>
        b.Create(TileDialect.Vector, loc, other is null ? [a, dst] : [a, other, dst], [], [new("kind", new StringAttr(kind))]);

    /// <summary><c>tile.vector</c>: dst = a kind <paramref name="scalar"/>.</summary>
    public static void Vector(OpBuilder b, Location loc, string kind, Value dst, Value a, double scalar) =>
        b.Create(TileDialect.Vector, loc, [a, dst], [], [new("kind", new StringAttr(kind)), new("scalar", new FloatAttr(scalar, FloatType.F32))]);

    /// <summary><c>tile.reduce</c>: dst[i][0] = kind over the row src[i].</summary>
    public static void Reduce(OpBuilder b, Location loc, string kind, Value src, Value dst) =>
        b.Create(TileDialect.Reduce, loc, [src, dst], [], [new("kind", new StringAttr(kind))]);

    /// <summary>A <c>tile.view</c> of <paramref name="src"/> of <paramref name="shape"/> from <paramref name="offsets"/>,
    /// with optional steps and permutation, named <paramref name="name"/>.</summary>
    public static Value View(OpBuilder b, Location loc, Value src, long[] shape, long[] offsets, long[]? steps, long[]? perm, string name)
    {
        var attrs = new List<KeyValuePair<string, Attribute>> { new("offsets", ArrayAttr.OfInts(offsets)) };
        if (perm is not null)
        {
            attrs.Add(new("perm", ArrayAttr.OfInts(perm)));
        }

        if (steps is not null)
        {
            attrs.Add(new("steps", ArrayAttr.OfInts(steps)));
        }

        var type = new MemRefType([.. shape.Select(d => new Dim(d))], ((MemRefType)src.Type).ElementType, MemorySpace.Dram);
        return Named(b.Create(TileDialect.View, loc, [src], [type], attrs).Result(0), name);
    }

    private static T Named<T>(T v, string name) where T : Value
    {
        v.NameHint = name;
        return v;
    }
}
