using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// A graph matmul or gemm as its tile.dispatch runs it: <see cref="Batch"/> independent products
/// C[M×N] = op(A)[M×K]·op(B)[K×N], where op transposes an operand stored transposed (gemm's transA/transB on an
/// activation; a constant transB weight is instead stored transposed at compile time). Batch dims broadcast as in
/// numpy: a batch dim of 1 gives that operand a batch stride of 0. When B is the same matrix for every batch
/// element and A is dense, the batch folds into M (one larger product, as for [B, S, K]·[K, N]).
/// </summary>
public sealed record NpuMatmulForm(long M, long N, long K, bool TransA, bool TransB, long[] BatchShape, long[] AStrides, long[] BStrides)
{
    public long Batch => BatchShape.Aggregate(1L, (x, y) => x * y);

    /// <summary>A's (or B's) dims as stored, for binding it in a tile.dispatch: its batch dims (1 where it broadcasts),
    /// then the matrix as stored (transposed when <see cref="TransA"/> / <see cref="TransB"/>).</summary>
    public long[] Stored(bool b)
    {
        var strides = b ? BStrides : AStrides;
        long[] matrix = b ? (TransB ? [N, K] : [K, N]) : (TransA ? [K, M] : [M, K]);
        return [.. BatchShape.Select((d, i) => strides[i] == 0 ? 1 : d), .. matrix];
    }

    /// <summary>The form of a mat_mul/gemm with static shapes, or why the matrix kernel cannot run it.</summary>
    public static (NpuMatmulForm? Form, string? Why) Of(Operation op)
    {
        var a = NpuPlacement.Shape(op.Operand(0));
        var b = NpuPlacement.Shape(op.Operand(1));
        if (op.Name == "graph.gemm")
        {
            if (a.Length != 2 || b.Length != 2)
            {
                return (null, "gemm operands that are not 2-D");
            }

            bool gta = Int(op, "transA") != 0, gtb = Int(op, "transB") != 0;
            long gm = gta ? a[1] : a[0], gk = gta ? a[0] : a[1], bk = gtb ? b[1] : b[0], gn = gtb ? b[0] : b[1];
            return gk != bk ? (null, "operand shapes do not agree")
                : (new NpuMatmulForm(gm, gn, gk, gta, gtb && !NpuPlacement.TransB(op), [], [], []), null);
        }

        if (a.Length == 0 || b.Length == 0)
        {
            return (null, "a scalar matmul operand");
        }

        if (b.Length == 1)
        {
            // A matrix-vector product: B is a K×1 column and the result's missing last dim has the same bytes.
            return a[^1] != b[0] ? (null, "operand shapes do not agree")
                : (new NpuMatmulForm(a[..^1].Aggregate(1L, (x, y) => x * y), 1, b[0], false, false, [], [], []), null);
        }

        long k = a[^1], n = b[^1];
        if (b[^2] != k)
        {
            return (null, "operand shapes do not agree");
        }

        // A 1-D A is one row; A's other leading dims are rows too when B is not batched (and A's rows are dense).
        bool ta = Folded(op.Operand(0)), tb = Folded(op.Operand(1));
        long[] aBatch = a.Length <= 2 ? [] : a[..^2], bBatch = b[..^2];
        long m = a.Length == 1 ? 1 : a[^2];
        if (bBatch.All(d => d == 1) && !ta)
        {
            return (new NpuMatmulForm(a[..^1].Aggregate(1L, (x, y) => x * y), n, k, false, tb, [], [], []), null);
        }

        int rank = Math.Max(aBatch.Length, bBatch.Length);
        var shape = new long[rank];
        long[] aStr = new long[rank], bStr = new long[rank];
        long sa = m * k, sb = k * n;
        for (int d = rank - 1; d >= 0; d--)
        {
            long da = Dim(aBatch, d - rank + aBatch.Length), db = Dim(bBatch, d - rank + bBatch.Length);
            if (da != db && da != 1 && db != 1)
            {
                return (null, "batch dims that do not broadcast");
            }

            shape[d] = Math.Max(da, db);
            aStr[d] = da == 1 ? 0 : sa;
            bStr[d] = db == 1 ? 0 : sb;
            sa *= da;
            sb *= db;
        }

        return (new NpuMatmulForm(m, n, k, ta, tb, shape, aStr, bStr), null);
    }

    /// <summary>
    /// Whether a transpose that swaps the last two dims folds into the matmuls that use it: every user is a mat_mul
    /// placed on the NPU, so each can read the transpose's source through swapped strides (per batch element the
    /// source matrix has the same size, so batch strides are unchanged). npu-partition then places the transpose as an
    /// alias: no step, its result names the source's bytes, and only those matmuls (which see the alias) read them.
    /// </summary>
    public static bool FoldsInto(Operation transpose)
    {
        var perm = NpuPlacement.Perm(transpose);
        int r = perm.Length;
        if (r < 2 || perm[r - 1] != r - 2 || perm[r - 2] != r - 1 || perm.Take(r - 2).Where((p, i) => p != i).Any()
            || NpuPlacement.ElementBytes(transpose.Result(0).Type) != 2 || !transpose.Result(0).HasUses)
        {
            return false;
        }

        return transpose.Result(0).Users.All(u => u.Name == "graph.mat_mul" && NpuPlacement.Classify(u).Place == NpuPlacement.Npu);
    }

    /// <summary>An operand produced by a transpose that npu-partition folded (placed as an alias).</summary>
    private static bool Folded(Value v) =>
        v.DefiningOp is { Name: "graph.transpose" } t && (t.GetAttr(NpuPlacement.PlaceAttr) as StringAttr)?.Value == NpuPlacement.Alias;

    private static long Dim(long[] s, int i) => i < 0 ? 1 : s[i];

    private static long Int(Operation op, string name) => (op.GetAttr(name) as IntegerAttr)?.Value ?? 0;
}
