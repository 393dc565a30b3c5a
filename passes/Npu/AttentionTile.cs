using Tessera.Dialects.Tile;
using Tessera.Npu.Lowering;
using Tessera.Npu.Target;

namespace Tessera.Passes.Npu;

/// <summary>
/// Flash attention (online softmax) as a <c>tile.dispatch</c>: out = softmax(scale · q·kᵀ + mask) · v per query head, the key
/// and value head g(h) = h / (Hq / Hkv). The blocks come from <see cref="AttentionPlan.Tiles"/> (a cost model over the
/// target description): row blocks of query rows (several heads of one KV group when each holds all positions) and key
/// blocks of Bc keys. Per (row block, key block) step: S = Q·Kᵀ (tile.mma, K loaded transposed, drained in f32), the mask
/// (tile.causal, or a runtime mask tile widened and added), m = max(m, rowmax S), P = exp(scale·(S − m)),
/// l = l·α + rowsum P with α = exp(scale·(m_old − m)), then O = O·α + P·V; after a row block's last step, O / l is
/// stored. Steps are written software-pipelined (S of step i before P·V of step i − 1), so the matrix and vector queues
/// overlap; every block buffer the two share has two copies.
/// </summary>
internal sealed class AttentionTile
{
    private readonly AttentionShape _s;
    private readonly AttentionTiles _tl;
    private readonly OpBuilder _b;
    private readonly Location _loc;
    private readonly Dictionary<long, Value> _consts = [];
    private readonly bool _stacked;
    private readonly Type _et;
    private Value _q = null!, _k = null!, _v = null!, _out = null!;
    private Value? _mask;
    private readonly Dictionary<string, Value> _t = new(StringComparer.Ordinal);
    private List<RowBlock> _rbs = [];
    private List<AttnStep> _steps = [];

    private AttentionTile(OpBuilder b, Location loc, AttentionShape s, AttentionTiles tl, Type et)
    {
        (_b, _loc, _s, _tl, _et) = (b, loc, s, tl, et);
        _stacked = tl.RowsPerHead >= s.S;
    }

    /// <summary>Replaces <paramref name="op"/> (a graph.sdpa the NPU runs, <paramref name="s"/> its shape) by its dispatch.</summary>
    public static void Rewrite(Context ctx, NpuTarget target, Operation op, AttentionShape s)
    {
        var tl = Override(target, op, s) ?? AttentionPlan.Tiles(target, s);
        var et = ((TensorType)op.Result(0).Type).ElementType;
        var inputs = new List<Value> { op.Operand(0), op.Operand(1), op.Operand(2) };
        if (s.Mask is not null)
        {
            inputs.Add(op.Operand(3));
        }

        var (dispatch, body) = TileBuild.Dispatch(ctx, op, inputs);
        var b = new OpBuilder(ctx);
        b.SetInsertionPointToEnd(body);
        var a = new AttentionTile(b, op.Location, s, tl, et);
        a.Build(body, s.Mask is null ? null : ((TensorType)op.Operand(3).Type).ElementType);

        // The roofline's work is the visible (query, key) pairs, not the masked parts of diagonal blocks the tiles compute.
        long pairs = s.Causal ? Enumerable.Range(0, s.S).Sum(i => (long)Math.Min(s.T, i + 1 + s.QOffset)) : (long)s.S * s.T;
        dispatch.SetAttr("npu.macs", IntegerAttr.I64(2 * pairs * s.Hq * s.D));
        TileBuild.Replace(op, dispatch);
    }

    /// <summary>The blocks the op's <c>npu.attention_tiles = [heads per block, rows per head, keys per block]</c> asks for
    /// instead of the cost model's (to study a tiling, or to test one), if they fit the target.</summary>
    private static AttentionTiles? Override(NpuTarget target, Operation op, AttentionShape s)
    {
        if (op.GetAttr("npu.attention_tiles") is not { } attr)
        {
            return null;
        }

        if (attr is not ArrayAttr { Elements: [IntegerAttr nh, IntegerAttr ns, IntegerAttr bc] } || nh.Value < 1 || ns.Value < 1 || bc.Value < 1
            || (nh.Value > 1 && ns.Value < s.S) || nh.Value > s.Group)
        {
            throw Tessera.Npu.NpuCodes.Error(Tessera.Npu.NpuCodes.LowerUnsupported, target.Name,
                "npu.attention_tiles must be [heads, rows, keys] >= 1, heads stacked only with every position and at most one KV group's");
        }

        var tl = new AttentionTiles((int)(nh.Value * ns.Value), (int)bc.Value, (int)nh.Value, (int)ns.Value, 0);
        string? why = AttentionPlan.Misfit(target, s, tl.Br, tl.Bc, 2);
        if (s.Mask is { } mk && !AttentionPlan.MaskFits(mk, tl.HeadsPerBlock, tl.RowsPerHead))
        {
            why ??= "a per-head mask without positions cannot broadcast over several positions of stacked heads";
        }

        if (why is not null)
        {
            throw Tessera.Npu.NpuCodes.Error(Tessera.Npu.NpuCodes.LowerUnsupported, target.Name, $"npu.attention_tiles {tl.Br}x{tl.Bc} do not fit: {why}");
        }

        return tl;
    }

    /// <summary>q and the output as [Hkv, Group·S, D] when blocks stack a group's heads, else [Hq, S, D]: either way a
    /// block is a rectangle of the last two dims, and a ragged block is clipped at their edge.</summary>
    private long[] RowsView(long rows, long cols) => _stacked ? [_s.Hkv, (long)_s.Group * rows, cols] : [_s.Hq, rows, cols];

    private void Build(Block body, Type? maskType)
    {
        var s = _s;
        _q = TileBuild.Bind(body, RowsView(s.S, s.D), _et, "Q");
        _k = TileBuild.Bind(body, [s.Hkv, s.T, s.D], _et, "K");
        _v = TileBuild.Bind(body, [s.Hkv, s.T, s.D], _et, "V");
        if (s.Mask is { } mk)
        {
            _mask = TileBuild.Bind(body, _stacked && mk.Heads > 1 ? [s.Hkv, (long)s.Group * mk.Rows, s.T] : [mk.Heads, mk.Rows, s.T], maskType!, "Mask");
        }

        _out = TileBuild.Bind(body, RowsView(s.S, s.D), _et, "O");
        // Blocks no larger than what they tile (a hand-picked block may be).
        int br = Math.Min(_tl.Br, _stacked ? s.Group * s.S : s.S), bc = Math.Min(_tl.Bc, s.T), d = s.D;
        void Tile(string name, long rows, long cols, Type elem, MemorySpace space = MemorySpace.Sram, int copies = 1) =>
            _t[name] = TileBuild.Alloc(_b, _loc, name, rows, cols, elem, space, copies);
        var f32 = FloatType.F32;
        Tile("q", br, d, _et, copies: 2);
        Tile("kt", d, bc, _et, copies: 2);
        Tile("v", bc, d, _et, copies: 2);
        Tile("acc_s", br, bc, f32, MemorySpace.Acc);
        Tile("s", br, bc, f32, copies: 2);
        Tile("p", br, bc, _et, copies: 2);
        Tile("acc_pv", br, d, f32, MemorySpace.Acc);
        Tile("pv", br, d, f32, copies: 2);
        Tile("o", br, d, f32);
        Tile("out", br, d, _et, copies: 2);
        foreach (var n in new[] { "m0", "m1", "mx", "alpha0", "alpha1", "l0", "l1", "rs", "linv" })
        {
            Tile(n, br, 1, f32);
        }

        if (s.Mask is { } m)
        {
            int rows = AttentionPlan.MaskRows(m, _tl.HeadsPerBlock, Math.Min(_tl.RowsPerHead, s.S));
            Tile("mask", rows, bc, maskType!, copies: 2);
            Tile("mask_f32", rows, bc, f32);
        }

        _rbs = AttentionPlan.RowBlocks(s, _tl);
        _steps = AttentionPlan.Steps(s, _tl, _rbs);
        for (int i = 0; i < _steps.Count; i++)
        {
            // Program order is each buffer's copy order: V(i) is loaded after P·V(i − 1) has read V(i − 1). The load
            // queue still runs Q, K, V of a step back to back.
            Loads(i);
            Mma("q", "kt", "acc_s", "s");
            if (i > 0)
            {
                Mma("p", "v", "acc_pv", "pv");
            }

            var kv = _steps[i].J0;
            Move(TileDialect.Load, _v, _t["v"], [C(_rbs[_steps[i].Rb].Group), C(kv), C(0)]);
            Softmax(i);
            if (i > 0)
            {
                Update(i - 1);
            }
        }

        Mma("p", "v", "acc_pv", "pv");
        Update(_steps.Count - 1);
    }

    private Value C(long v)
    {
        if (!_consts.TryGetValue(v, out var c))
        {
            _consts[v] = c = TileBuild.Index(_b, _loc, v);
        }

        return c;
    }

    /// <summary>The first row of block <paramref name="rb"/> in <see cref="RowsView"/> of a tensor with <paramref name="rows"/> rows per head.</summary>
    private Value[] RowIndex(RowBlock rb, long rows, long col) =>
        _stacked ? [C(rb.Group), C((long)(rb.H0 - (rb.Group * _s.Group)) * rows), C(col)] : [C(rb.H0), C(rb.S0), C(col)];

    private void Move(OpDef def, Value src, Value dst, Value[] idx, bool transpose = false) => TileBuild.Move(_b, def, src, dst, idx, transpose, _loc);

    private void Vec(string kind, string dst, string a, string? b = null) => TileBuild.Vector(_b, _loc, kind, _t[dst], _t[a], b is null ? null : _t[b]);

    private void Vec(string kind, string dst, string a, double scalar) => TileBuild.Vector(_b, _loc, kind, _t[dst], _t[a], scalar);

    private void Reduce(string kind, string src, string dst) => TileBuild.Reduce(_b, _loc, kind, _t[src], _t[dst]);

    private void Loads(int i)
    {
        var st = _steps[i];
        var rb = _rbs[st.Rb];
        if (st.First)
        {
            Move(TileDialect.Load, _q, _t["q"], RowIndex(rb, _s.S, 0));
        }

        if (_s.Mask is { } mk)
        {
            Value[] idx = _stacked && mk.Heads > 1 ? RowIndex(rb, mk.Rows, st.J0)
                : [C(mk.Heads > 1 ? rb.H0 : 0), C(mk.Rows > 1 ? rb.S0 : 0), C(st.J0)];
            Move(TileDialect.Load, _mask!, _t["mask"], idx);
        }

        Move(TileDialect.Load, _k, _t["kt"], [C(rb.Group), C(st.J0), C(0)], transpose: true);
    }

    private void Mma(string s, string w, string acc, string dst)
    {
        _b.Create(TileDialect.Mma, _loc, [_t[s], _t[w], _t[acc], C(0)], [], []);
        _b.Create(TileDialect.Drain, _loc, [_t[acc], _t[dst]], [], []);
    }

    private void Softmax(int i)
    {
        var st = _steps[i];
        var rb = _rbs[st.Rb];
        string mNew = $"m{i % 2}", mOld = $"m{(i + 1) % 2}", l = $"l{st.Rb % 2}", alpha = $"alpha{i % 2}";
        float scale = _s.EffectiveScale;
        if (_s.Mask is { } mk)
        {
            // 0 / −1e30 rather than −inf: a row whose first key block is all masked keeps a finite max, and the next
            // visible block's α = exp(scale·(−1e30 − m)) = 0 wipes its weights out. A float mask is divided by the scale
            // because the scale multiplies after the mask is added.
            Vec("copy", "mask_f32", "mask");
            if (mk.Type == "bool")
            {
                Vec("mul", "mask_f32", "mask_f32", 1e30);
                Vec("sub", "mask_f32", "mask_f32", 1e30);
            }
            else
            {
                Vec("mul", "mask_f32", "mask_f32", 1.0 / scale);
                Vec("max", "mask_f32", "mask_f32", -1e30);
            }

            Vec("add", "s", "s", "mask_f32");
        }

        if (st.Masked)
        {
            _b.Create(TileDialect.Causal, _loc, [_t["s"]], [], [new("offset", IntegerAttr.I64((long)_s.QOffset + rb.S0 - st.J0)), new("period", IntegerAttr.I64(rb.Ns))]);
        }

        // A row's first key block always shows it key 0 (qOffset ≥ 0) or, with a runtime mask, scores of −1e30 at worst,
        // so its max is finite and m needs no −inf start.
        Reduce("max", "s", st.First ? mNew : "mx");
        if (!st.First)
        {
            Vec("max", mNew, mOld, "mx");
        }

        Vec("sub", "s", "s", mNew);
        Vec("mul", "s", "s", scale);
        Vec("exp", "s", "s");
        Reduce("sum", "s", st.First ? l : "rs");
        if (!st.First)
        {
            Vec("sub", alpha, mOld, mNew);
            Vec("mul", alpha, alpha, scale);
            Vec("exp", alpha, alpha);
            Vec("mul", l, l, alpha);
            Vec("add", l, l, "rs");
        }

        Vec("copy", "p", "s");
    }

    private void Update(int i)
    {
        var st = _steps[i];
        if (st.First)
        {
            Vec("copy", "o", "pv");
        }
        else
        {
            Vec("mul", "o", "o", $"alpha{i % 2}");
            Vec("add", "o", "o", "pv");
        }

        if (!st.Last)
        {
            return;
        }

        Vec("recip", "linv", $"l{st.Rb % 2}");
        Vec("mul", "o", "o", "linv");
        Vec("copy", "out", "o");
        Move(TileDialect.Store, _t["out"], _out, RowIndex(_rbs[st.Rb], _s.S, 0));
    }
}
