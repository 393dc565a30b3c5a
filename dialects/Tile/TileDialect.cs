using Tessera.IR;

namespace Tessera.Dialects.Tile;

/// <summary>
/// The <c>tile</c> dialect: the loop-over-tiles level between the graph and a target, with explicit memrefs in
/// <c>dram</c>, <c>sram</c> and <c>acc</c> and nothing target-specific (no queues, semaphores or addresses; those come
/// when a target lowers it). A <c>tile.dispatch</c> stands in the graph for one op: its operands and results are tensors
/// outside and, inside, block arguments that bind them as DRAM memrefs (inputs, then results; a binding may view the
/// tensor's elements in another shape), like IREE's dispatch regions. Its body allocates on-chip buffers (<c>tile.alloc</c>), loops over tiles (<c>tile.for</c>), and moves and
/// computes tiles (<c>tile.load</c>, <c>tile.mma</c>, <c>tile.drain</c>, <c>tile.vector</c>, <c>tile.store</c>).
/// <para>Tiles are clipped at a memref's edges: a tile op works on the part of its tile that lies inside the DRAM
/// memref (ragged last tiles), or within the <c>sizes</c> a load gives (a narrower block anywhere in the memref); the
/// ops that compute on the tile, and the store of what they produce, work on that part.</para>
/// <para>A <c>tile.alloc</c> with <c>buffers = N</c> holds N copies of its tile, used in turn by the loads and drains
/// that write it, so a target may overlap moving one with computing on another.</para>
/// </summary>
public sealed partial class TileDialect : Dialect
{
    public override string Name => "tile";

    private static readonly TypeConstraint Dram = Space(MemorySpace.Dram);
    private static readonly TypeConstraint Sram = Space(MemorySpace.Sram);
    private static readonly TypeConstraint Acc = Space(MemorySpace.Acc);

    public static readonly OpDef Dispatch = OpDef.Define("tile.dispatch", "one op as loops over tiles: tensors outside, DRAM memrefs inside")
        .VariadicOperand("inputs", TC.AnyTensor)
        .VariadicResult("results", TC.AnyTensor)
        .Attr("op", AC.String)
        .With(OpTraits.IsolatedFromAbove | OpTraits.NoTerminator | OpTraits.SingleBlock)
        .Regions(1)
        .Verify(VerifyDispatch);

    public static readonly OpDef Alloc = OpDef.Define("tile.alloc", "an on-chip tile buffer (sram or acc) with `buffers` copies")
        .Result("buffer", new TypeConstraint("memref in sram or acc", t => t is MemRefType { Space: not MemorySpace.Dram, HasStaticShape: true }))
        .Attr("name", AC.String)
        .OptionalAttr("buffers", new AttrConstraint("integer in [1, 8]", a => a is IntegerAttr { Value: >= 1 and <= 8 }));

    public static readonly OpDef For = OpDef.Define("tile.for", "for %iv = lower; %iv < upper; %iv += step (static bounds)")
        .Attr("lower", AC.Int).Attr("upper", AC.Int).Attr("step", AC.Int)
        .With(OpTraits.NoTerminator | OpTraits.SingleBlock)
        .Regions(1)
        .Verify(VerifyFor);

    public static readonly OpDef Load = OpDef.Define("tile.load", "dst = the tile of src at [indices], over src's trailing dims (with transpose: dst[i][j] = src[r + j][c + i]); with sizes = [rows, cols], only the tile's leading rows x cols")
        .Operand("src", Dram).Operand("dst", Sram).VariadicOperand("indices", TC.Index)
        .OptionalAttr("transpose", AC.Unit)
        .OptionalAttr("low", AC.IntArray).OptionalAttr("high", AC.IntArray).OptionalAttr("padding", AC.Typed)
        .OptionalAttr("sizes", AC.IntArray)
        .Verify(op => VerifyMove(op, op.Operand(0), op.Operand(1)) ?? VerifySizes(op));

    public static readonly OpDef Store = OpDef.Define("tile.store", "the tile of dst at [indices] = src (with transpose: dst[r + j][c + i] = src[i][j])")
        .Operand("src", Sram).Operand("dst", Dram).VariadicOperand("indices", TC.Index)
        .OptionalAttr("transpose", AC.Unit)
        .Verify(op => VerifyMove(op, op.Operand(1), op.Operand(0)));

    public static readonly OpDef Mma = OpDef.Define("tile.mma", "acc = (k == 0 ? 0 : acc) + s . w, fp32 accumulation")
        .Operand("s", Sram).Operand("w", Sram).Operand("acc", Acc).Operand("k", TC.Index)
        .Verify(VerifyMma);

    public static readonly OpDef Drain = OpDef.Define("tile.drain", "dst = acc, converted to dst's element type")
        .Operand("acc", Acc).Operand("dst", Sram)
        .Verify(op => Shape(op.Operand(0)).SequenceEqual(Shape(op.Operand(1))) ? null : "acc and dst must have the same shape");

    /// <summary>The element-wise kinds of <see cref="Vector"/>: two operands (or one and a <c>scalar</c>), then one.</summary>
    public static readonly string[] BinaryKinds = ["add", "sub", "mul", "max", "min"], UnaryKinds = ["exp", "silu", "gelu", "rsqrt", "recip", "copy"];

    public static readonly OpDef Vector = OpDef.Define("tile.vector",
            "dst = kind(a[, b | scalar]) element-wise in fp32, rounded once to dst's type; b may be a column [R x 1], one element [1 x 1], or K rows [K x C] repeated down a [R x C] (K divides R; K = 1: a row); copy also widens i1/i8")
        .VariadicOperand("operands", Sram)
        .Attr("kind", AC.OneOf([.. BinaryKinds, .. UnaryKinds]))
        .OptionalAttr("scalar", AC.Float)
        .Verify(VerifyVector);

    /// <summary>The kinds of <see cref="Reduce"/>.</summary>
    public static readonly string[] ReduceKinds = ["sum", "max"];

    public static readonly OpDef Reduce = OpDef.Define("tile.reduce", "dst[i][0] = kind over j of src[i][j], in fp32 (src [R x C] and dst [R x 1] both f32)")
        .Operand("src", Sram).Operand("dst", Sram)
        .Attr("kind", AC.OneOf(ReduceKinds))
        .Verify(VerifyReduce);

    public static readonly OpDef Causal = OpDef.Define("tile.causal",
            "scores[i][j] += −1e30 where key j comes after query i, j > (i mod period) + offset: the causal mask of one block (f32)")
        .Operand("scores", Sram)
        .Attr("offset", AC.Int).Attr("period", AC.Int)
        .Verify(op => ((ShapedType)op.Operand(0)!.Type).ElementType is FloatType { Width: 32 } && Shape(op.Operand(0)).Length == 2
            && ((IntegerAttr)op.GetAttr("period")!).Value >= 1 ? null : "needs an f32 [R x C] tile and period >= 1");

    public static readonly OpDef View = OpDef.Define("tile.view", "a strided view of a dram memref: result[j] = src[offsets + j * steps], its dims in perm's order")
        .Operand("src", Dram).Result("view", Dram)
        .Attr("offsets", AC.IntArray).OptionalAttr("steps", AC.IntArray).OptionalAttr("perm", AC.IntArray)
        .Verify(VerifyView);

    public static readonly OpDef Gather = OpDef.Define("tile.gather", "dst[r] = row ids[r] of table (the ids a tile of i64 in sram)")
        .Operand("table", Dram).Operand("ids", Sram).Operand("dst", Sram)
        .Verify(VerifyGather);

    public override IEnumerable<OpDef> Ops => [Dispatch, Alloc, For, Load, Store, Mma, Drain, Vector, Reduce, Causal, View, Gather];

    private static TypeConstraint Space(MemorySpace s) =>
        new($"memref in {s.ToString().ToLowerInvariant()}", t => t is MemRefType m && m.Space == s && m.HasStaticShape);

    private static long[] Shape(Value? v) => [.. ((ShapedType)v!.Type).Shape!.Select(d => d.Size)];

    private static string? VerifyDispatch(Operation op)
    {
        var body = op.Regions[0].EntryBlock;
        if (body is null)
        {
            return "needs a body";
        }

        var expected = op.Operands.Select(v => v!.Type).Concat(op.Results.Select(r => r.Type)).ToList();
        if (body.Arguments.Count != expected.Count)
        {
            return $"the body binds {body.Arguments.Count} memrefs for {expected.Count} operands and results";
        }

        for (int i = 0; i < expected.Count; i++)
        {
            // A binding views the tensor's elements row-major, so it may fold dims (a [1, S, K] tensor as S x K).
            if (expected[i] is not TensorType t || body.Arguments[i].Type is not MemRefType m || m.Space != MemorySpace.Dram
                || m.ElementType != t.ElementType || m.ElementCount != t.ElementCount)
            {
                return $"binding #{i} must be a dram memref with {expected[i]}'s element type and count, not {body.Arguments[i].Type}";
            }
        }

        return null;
    }

    private static string? VerifyFor(Operation op)
    {
        long Get(string n) => ((IntegerAttr)op.GetAttr(n)!).Value;
        var body = op.Regions[0].EntryBlock;
        if (Get("step") < 1 || Get("upper") < Get("lower"))
        {
            return "needs step >= 1 and upper >= lower";
        }

        return body is { Arguments.Count: 1 } && body.Arguments[0].Type is IndexType ? null : "the body takes one index argument";
    }

    /// <summary>A tile move between <paramref name="mem"/> (DRAM) and <paramref name="tile"/> (SRAM): one index per DRAM
    /// dim, element types equal, and the tile (transposed: its last two dims swapped) no larger than the memref's
    /// trailing dims.</summary>
    private static string? VerifyMove(Operation op, Value? mem, Value? tile)
    {
        long[] m = Shape(mem), t = Shape(tile);
        if (VerifyPadding(op, m) is { } padWhy)
        {
            return padWhy;
        }

        m = Padded(op, m);
        if (op.NumOperands - 2 != m.Length)
        {
            return $"needs {m.Length} indices, one per dram dim";
        }

        if (((ShapedType)mem!.Type).ElementType != ((ShapedType)tile!.Type).ElementType)
        {
            return "the dram memref and the tile must have the same element type";
        }

        if (op.GetAttr("transpose") is not null)
        {
            if (t.Length < 2)
            {
                return "a transposed move needs a tile of rank 2 or more";
            }

            t = [.. t];
            (t[^1], t[^2]) = (t[^2], t[^1]);
        }

        // The tile covers the memref's trailing dims; the leading dims are picked by their indices alone.
        return t.Length <= m.Length && t.Zip(m[^t.Length..]).All(p => p.First <= p.Second) ? null : $"tile {string.Join('x', t)} does not fit memref {string.Join('x', m)}";
    }

    /// <summary>A load's <c>sizes</c>: the part of the tile it fills, two dims each in [1, the tile's], so a block
    /// narrower than the tile can sit anywhere in the memref, not only at its edge.</summary>
    private static string? VerifySizes(Operation op)
    {
        if (op.GetAttr("sizes") is not ArrayAttr sizes)
        {
            return null;
        }

        long[] t = Shape(op.Operand(1));
        var v = sizes.Elements.Select(e => ((IntegerAttr)e).Value).ToArray();
        return t.Length == 2 && v.Length == 2 && v[0] >= 1 && v[0] <= t[0] && v[1] >= 1 && v[1] <= t[1]
            ? null : $"sizes [{string.Join(", ", v)}] must be two dims within the tile {string.Join('x', t)}";
    }

    private static string? VerifyVector(Operation op)
    {
        var kind = ((StringAttr)op.GetAttr("kind")!).Value;
        bool scalar = op.GetAttr("scalar") is not null;
        if (scalar && !BinaryKinds.Contains(kind))
        {
            return $"only a binary kind takes a scalar, not {kind}";
        }

        int arity = BinaryKinds.Contains(kind) && !scalar ? 2 : 1;
        if (op.NumOperands != arity + 1)
        {
            return $"{kind} takes {arity} operand(s){(scalar ? " and the scalar" : "")} and a destination";
        }

        // A copy may widen an integer tile (a bool or int8 mask) to float; everything else is float.
        if (op.Operands.Skip(kind == "copy" ? 1 : 0).Any(v => ((ShapedType)v!.Type).ElementType is not FloatType)
            || ((ShapedType)op.Operand(0)!.Type).ElementType is not (FloatType or IntegerType { Width: 1 or 8 }))
        {
            return "operands and destination must be float tiles (a copy's source may also be i1 or i8)";
        }

        long[] a = Shape(op.Operand(0)), dst = Shape(op.Operand(op.NumOperands - 1));
        if (!a.SequenceEqual(dst))
        {
            return "the destination must have a's shape";
        }

        // b[i mod rows(b)][j mod cols(b)]: rows(b) divides a's (1: a row; all: a column or full), cols(b) is 1 or a's.
        if (arity == 2 && Shape(op.Operand(1)) is var b && !b.SequenceEqual(a)
            && !(a.Length == 2 && b.Length == 2 && b[0] >= 1 && a[0] % b[0] == 0 && (b[1] == 1 || b[1] == a[1])))
        {
            return $"b [{string.Join('x', b)}] must be a's shape, a column, one element, or rows of it that repeat down a";
        }

        return null;
    }

    private static string? VerifyReduce(Operation op)
    {
        long[] s = Shape(op.Operand(0)), d = Shape(op.Operand(1));
        if (op.Operands.Any(v => ((ShapedType)v!.Type).ElementType is not FloatType { Width: 32 }))
        {
            return "src and dst must be f32 tiles";
        }

        return s.Length == 2 && d.Length == 2 && d[0] == s[0] && d[1] == 1 ? null : "needs src [R x C] and dst [R x 1]";
    }

    private static string? VerifyMma(Operation op)
    {
        long[] s = Shape(op.Operand(0)), w = Shape(op.Operand(1)), acc = Shape(op.Operand(2));
        if (s.Length != 2 || w.Length != 2 || acc.Length != 2 || s[1] != w[0] || acc[0] != s[0] || acc[1] != w[1])
        {
            return "needs s[P x K], w[K x Q] and acc[P x Q]";
        }

        return ((ShapedType)op.Operand(2)!.Type).ElementType is FloatType { Width: 32 } ? null : "the accumulator holds f32";
    }
}
