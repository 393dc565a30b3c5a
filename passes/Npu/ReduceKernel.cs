using Tessera.Dialects.Tile;
using Tessera.Npu;
using Tessera.Npu.Target;

namespace Tessera.Passes.Npu;

/// <summary>
/// graph.reduce_{sum,mean,max,min,sum_square} as a <c>tile.dispatch</c> (the row kernels' sibling: its result is one
/// element per row, and the rows of one output block may be accumulated over several loads). Each output element is a
/// row of a tile whose elements are the ones it reduces, so the vector unit always reduces along rows
/// (<c>tile.reduce</c>). The input's non-unit dims, merged into runs of kept and of reduced dims, are viewed so that
/// the last two runs are the tile's:
/// <list type="bullet">
/// <item>kept × reduced (the last axes are reduced): the tile [rows × reduce] is loaded as it lies;</item>
/// <item>reduced × kept (a middle or the leading axis): it is loaded transposed, so each output's elements, which lie
/// a kept run apart in DRAM, form a row.</item>
/// </list>
/// The runs before those two are loops: a kept one picks the output block, a reduced one is accumulated into it
/// element-wise (add, max or min of the fp32 blocks, the first load peeled so no initial value is needed), and each
/// row is reduced once at the end: reducing every load's rows would pay the vector unit's per-row cost once per load.
/// Everything is fp32; min is −max(−x) (negation is exact), mean multiplies the sum by the fp32 constant 1/n.
/// </summary>
public sealed class ReduceKernel
{
    private const long MaxN = 65535;

    private readonly string _kind;
    private readonly (long N, bool Reduced)[] _lead;
    private readonly long _rows, _reduce, _count;
    private readonly bool _transpose;

    private ReduceKernel(string kind, (long N, bool Reduced)[] lead, long rows, long reduce, bool transpose)
    {
        (_kind, _lead, _rows, _reduce, _transpose) = (kind, lead, rows, reduce, transpose);
        _count = reduce * lead.Where(d => d.Reduced).Aggregate(1L, (p, d) => p * d.N);
    }

    /// <summary>Whether a reduced run precedes the tile's (its loads are accumulated into the output block).</summary>
    private bool Accumulates => _lead.Any(d => d.Reduced);

    /// <summary>The reduction's kernel, or null when <paramref name="op"/> is not a reduction the vector unit runs.</summary>
    public static ReduceKernel? Of(Operation op)
    {
        if (!NpuReductions.Handles(op) || NpuReductions.Reason(op) is not null || NpuReductions.Axes(op) is not { } dims
            || op.Operand(0).Type is not TensorType { HasStaticShape: true } x || x.ElementCount == 0
            || NpuPlacement.DType(x) is not ("f16" or "bf16") || NpuPlacement.DType(op.Result(0).Type) != NpuPlacement.DType(x))
        {
            return null;
        }

        // Adjacent dims that are both kept or both reduced are contiguous in DRAM: one run each.
        var runs = new List<(bool Reduced, List<long> Dims)>();
        foreach (var (n, reduced) in dims)
        {
            if (runs.Count > 0 && runs[^1].Reduced == reduced)
            {
                runs[^1].Dims.Add(n);
            }
            else
            {
                runs.Add((reduced, [n]));
            }
        }

        // Nothing but unit dims reduced: each output reduces one element (a copy with the kind's arithmetic).
        if (runs.Count == 0 || (runs.Count == 1 && !runs[0].Reduced))
        {
            runs.Add((true, [1]));
        }

        static long Product(IEnumerable<long> d) => d.Aggregate(1L, (p, q) => p * q);
        var lead = new List<(long N, bool Reduced)>();
        bool transpose = !runs[^1].Reduced;
        long rows, reduce;
        if (!transpose)
        {
            (rows, reduce) = (runs.Count > 1 ? Product(runs[^2].Dims) : 1, Product(runs[^1].Dims));
            lead.AddRange(runs.SkipLast(2).Select(r => (Product(r.Dims), r.Reduced)));
        }
        else
        {
            // A transposed load's reduced dim is a DMA dim (≤ 65535): the run's outer dims become an accumulated loop.
            var red = runs[^2].Dims;
            int i = red.Count;
            for (reduce = 1; i > 0 && reduce * red[i - 1] <= MaxN; i--)
            {
                reduce *= red[i - 1];
            }

            if (i == red.Count)
            {
                return null;   // a dim longer than a DMA dim; NpuReductions.Reason keeps such reductions on the host
            }

            rows = Product(runs[^1].Dims);
            lead.AddRange(runs.SkipLast(2).Select(r => (Product(r.Dims), r.Reduced)));
            if (i > 0)
            {
                lead.Add((Product(red.Take(i)), true));
            }
        }

        return new ReduceKernel(NpuReductions.Kind(op), [.. lead], rows, reduce, transpose);
    }

    /// <summary>The tiles of the dispatch: the loaded block, the fp32 accumulator, the fp32 copy of a later load, the
    /// per-row result and the output.</summary>
    private sealed record Tiles(Value In, Value Acc, Value? W, Value S, Value Out);

    /// <summary>Replaces <paramref name="op"/> by this kernel's dispatch on <paramref name="target"/>.</summary>
    public void Build(Context ctx, NpuTarget target, Operation op)
    {
        var et = ((TensorType)op.Operand(0).Type).ElementType;
        var loc = op.Location;
        long rb = BlockRows(target);
        var (dispatch, body) = TileBuild.Dispatch(ctx, op, [op.Operand(0)]);
        long[] tile = _transpose ? [_reduce, _rows] : [_rows, _reduce];
        var x = TileBuild.Bind(body, [.. _lead.Select(d => d.N), .. tile], et, "X");
        var y = TileBuild.Bind(body, [.. _lead.Where(d => !d.Reduced).Select(d => d.N), _rows, 1], et, "Y");
        var ob = new OpBuilder(ctx);
        ob.SetInsertionPointToEnd(body);
        var zero = TileBuild.Zero(ob, loc);
        var t = new Tiles(
            TileBuild.Alloc(ob, loc, "in", rb, _reduce, et, MemorySpace.Sram, 2),
            TileBuild.Alloc(ob, loc, "acc", rb, _reduce, FloatType.F32, MemorySpace.Sram, 1),
            Accumulates ? TileBuild.Alloc(ob, loc, "w", rb, _reduce, FloatType.F32, MemorySpace.Sram, 1) : null,
            TileBuild.Alloc(ob, loc, "s", rb, 1, FloatType.F32, MemorySpace.Sram, 1),
            TileBuild.Alloc(ob, loc, "out", rb, 1, et, MemorySpace.Sram, 2));

        // Loops over the kept leading runs, then the output's row blocks; inside, the accumulated loads.
        var idx = new Value[_lead.Length];
        var b = ob;
        for (int i = 0; i < _lead.Length; i++)
        {
            if (!_lead[i].Reduced)
            {
                (b, idx[i]) = TileBuild.For(b, loc, _lead[i].N, 1, $"k{i}");
            }
        }

        var (inner, r) = TileBuild.For(b, loc, _rows, rb, "r");
        Steps(inner, loc, 0, true, idx, x, r, zero, t);
        string reduce = _kind is "max" or "min" ? "max" : "sum";
        if (_kind == "min")
        {
            TileBuild.Vector(inner, loc, "mul", t.Acc, t.Acc, -1.0);
        }

        TileBuild.Reduce(inner, loc, reduce, t.Acc, t.S);
        if (_kind is "min" or "mean")
        {
            TileBuild.Vector(inner, loc, "mul", t.S, t.S, _kind == "min" ? -1.0 : (double)(1f / _count));
        }

        TileBuild.Vector(inner, loc, "copy", t.Out, t.S);
        TileBuild.Move(inner, TileDialect.Store, t.Out, y, [.. idx.Where((_, i) => !_lead[i].Reduced), r, zero], false, loc);
        TileBuild.Replace(op, dispatch);
    }

    /// <summary>The loads of one output block over the reduced leading runs from <paramref name="from"/> on. The very
    /// first (every reduced index 0) writes the accumulator; each later one is combined into it.</summary>
    private void Steps(OpBuilder b, Location loc, int from, bool first, Value[] idx, Value x, Value r, Value zero, Tiles t)
    {
        int i = Array.FindIndex(_lead, from, d => d.Reduced);
        if (i < 0)
        {
            Step(b, loc, first, idx, x, r, zero, t);
            return;
        }

        if (first)
        {
            idx[i] = zero;
            Steps(b, loc, i + 1, true, idx, x, r, zero, t);
        }

        if (!first || _lead[i].N > 1)
        {
            (var body, idx[i]) = TileBuild.For(b, loc, _lead[i].N, 1, $"a{i}", lower: first ? 1 : 0);
            Steps(body, loc, i + 1, false, idx, x, r, zero, t);
        }
    }

    private void Step(OpBuilder b, Location loc, bool first, Value[] idx, Value x, Value r, Value zero, Tiles t)
    {
        TileBuild.Move(b, TileDialect.Load, x, t.In, [.. idx, .. _transpose ? new[] { zero, r } : [r, zero]], _transpose, loc);
        var f32 = first ? t.Acc : t.W!;
        TileBuild.Vector(b, loc, "copy", f32, t.In);
        if (_kind == "sum_square")
        {
            TileBuild.Vector(b, loc, "mul", f32, f32, f32);
        }

        if (!first)
        {
            TileBuild.Vector(b, loc, _kind is "max" or "min" ? _kind : "add", t.Acc, t.Acc, f32);
        }
    }

    /// <summary>Rows per block: all that fit SRAM (two copies of the loaded block and of the result, the fp32
    /// accumulator and copy, the per-row result), at most 65535 (a DMA dim and a row loop's count), and few enough that
    /// the dispatch makes about four loads while each still moves at least DMA latency × bandwidth bytes, so loads,
    /// vector work and stores overlap.</summary>
    public long BlockRows(NpuTarget t)
    {
        const long e = 2;
        long perRow = (2 * e * (_reduce + 1)) + (4 * _reduce * (Accumulates ? 2 : 1)) + 4;
        long fixedBytes = 64L * (5 + 8);
        long fit = (t.SramBytes - fixedBytes) / perRow;
        if (fit < 1)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"a reduction over {_reduce} elements needs {perRow} bytes of SRAM per row (plus {fixedBytes}); target {t.Name} has {t.SramBytes}");
        }

        double minBytes = t.DmaLatencyCycles * (double)(t.DmaBandwidthGBps / t.ClockGHz);
        long steps = _lead.Aggregate(1L, (p, d) => p * d.N);
        long pipelined = Math.Max(((_rows * steps) + 3) / 4, (long)Math.Ceiling(minBytes / (e * _reduce)));
        return Math.Max(1, Math.Min(Math.Min(fit, _rows), Math.Min(pipelined, MaxN)));
    }
}
