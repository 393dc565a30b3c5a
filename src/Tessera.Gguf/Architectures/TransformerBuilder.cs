using Tessera.Dialects;
using Tessera.Dialects.Graph;

namespace Tessera.Gguf.Architectures;

/// <summary>Builds @prefill or @decode of a decoder-only transformer described by an <see cref="ArchSpec"/>.</summary>
internal sealed class TransformerBuilder
{
    private const int Opset = 17;
    private readonly OpBuilder _b;
    private readonly Block _module;
    private readonly ArchSpec _s;
    private readonly Weights _w;
    private readonly bool _decode;
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private Value _seqLen = null!;    // prefill: [1] i64 holding seq
    private Value _position = null!;  // decode: [1] i64
    private Value? _cos, _sin;

    public TransformerBuilder(Context ctx, Block module, ArchSpec spec, Weights weights, bool decode)
    {
        _b = new OpBuilder(ctx);
        _module = module;
        _s = spec;
        _w = weights;
        _decode = decode;
    }

    private long Vocab => (_w.Has("output.weight") ? _w.Info("output.weight") : _w.Info("token_embd.weight")).Shape[0];

    private TensorType CacheType => TensorType.Of(FloatType.F32, 1, _s.KvHeads, _s.Context, _s.HeadDim);

    public void Build()
    {
        var i64 = IntegerType.I64;
        var logitsType = new TensorType([new Dim(1), _decode ? new Dim(1) : Dim.Dynamic("seq"), new Dim(Vocab)], FloatType.F32);
        var inputs = new List<(string Name, Type Type)>();
        if (_decode)
        {
            inputs.Add(("token", TensorType.Of(i64, 1, 1)));
            inputs.Add(("position", TensorType.Of(i64, 1)));
            for (int l = 0; l < _s.Layers; l++)
            {
                inputs.Add(($"k_cache_{l}", CacheType));
                inputs.Add(($"v_cache_{l}", CacheType));
            }
        }
        else
        {
            inputs.Add(("tokens", new TensorType([new Dim(1), Dim.Dynamic("seq")], i64)));
        }

        var resultTypes = new List<Type> { logitsType };
        for (int l = 0; l < 2 * _s.Layers; l++)
        {
            resultTypes.Add(CacheType);
        }

        string name = _decode ? "decode" : "prefill";
        _b.SetInsertionPointToEnd(_module);
        var func = _b.Create(FuncDialect.Func, new NameLoc(name), [], [],
            [new(SymbolTable.SymNameAttr, new StringAttr(name)), new(FuncDialect.FunctionTypeAttr, new TypeAttr(new FunctionType(inputs.Select(i => i.Type).ToList(), resultTypes)))], regions: 1);
        var body = func.Regions[0].AddBlock();
        var args = inputs.Select(i =>
        {
            var a = body.AddArgument(i.Type, new NameLoc(i.Name));
            a.NameHint = i.Name;
            return (Value)a;
        }).ToList();
        _b.SetInsertionPointToEnd(body);

        var tokens = args[0];
        if (_decode)
        {
            _position = args[1];
        }
        else
        {
            _seqLen = Op("graph.shape", [tokens], IntegerType.I64, ("start", I(1)), ("end", I(2)));
        }

        var x = Op("graph.gather", [Weight("token_embd.weight"), Reshape(tokens, -1)], null, ("axis", I(0)));
        if (_s.EmbedScale is double scale)
        {
            x = Op("graph.mul", [x, Const(FloatType.F32, [], scale)]);
        }

        if (_s.LearnedPositions)
        {
            x = Op("graph.add", [x, Positions(Weight("position_embd.weight"))]);
        }

        var results = new List<Value>();
        var caches = new List<Value>();
        for (int l = 0; l < _s.Layers; l++)
        {
            var (attn, k, v) = Attention($"blk.{l}", Norm(x, $"blk.{l}.attn_norm"), _decode ? args[2 + (2 * l)] : null, _decode ? args[3 + (2 * l)] : null);
            caches.Add(k);
            caches.Add(v);
            x = Op("graph.add", [x, attn]);
            x = Op("graph.add", [x, Ffn($"blk.{l}", Norm(x, $"blk.{l}.ffn_norm"))]);
        }

        x = Norm(x, "output_norm");
        var logits = Linear(x, _w.Has("output.weight") ? "output" : "token_embd");
        results.Add(Op("graph.reshape", [logits, Const(IntegerType.I64, [3], 1, -1, Vocab)], logitsType));
        results.AddRange(caches);
        results[0].NameHint = "logits";
        _b.Create(FuncDialect.Return, new NameLoc("return"), results, []);
    }

    private (Value Out, Value K, Value V) Attention(string blk, Value h, Value? kCache, Value? vCache)
    {
        long hq = _s.Heads, hkv = _s.KvHeads, d = _s.HeadDim;
        Value q, k, v;
        if (_s.FusedQkv)
        {
            var qkv = Linear(h, blk + ".attn_qkv");
            q = SliceAxis(qkv, 1, 0, hq * d);
            k = SliceAxis(qkv, 1, hq * d, (hq + hkv) * d);
            v = SliceAxis(qkv, 1, (hq + hkv) * d, (hq + (2 * hkv)) * d);
        }
        else
        {
            q = Linear(h, blk + ".attn_q");
            k = Linear(h, blk + ".attn_k");
            v = Linear(h, blk + ".attn_v");
        }

        q = Heads(q, hq, _s.QkNorm ? blk + ".attn_q_norm" : null);
        k = Heads(k, hkv, _s.QkNorm ? blk + ".attn_k_norm" : null);
        v = Heads(v, hkv, null);
        q = Rope(q);
        k = Rope(k);
        Value o;
        if (_decode)
        {
            // Write the new key/value at `position` (where(iota == position)), attend over keys at iota <= position.
            var iota = Enumerable.Range(0, (int)_s.Context).Select(i => (double)i).ToArray();
            var at = Op("graph.equal", [Const(IntegerType.I64, [1, 1, _s.Context, 1], iota), _position], IntegerType.I1);
            k = Op("graph.where", [at, k, kCache!], CacheType);
            v = Op("graph.where", [at, v, vCache!], CacheType);
            var mask = Op("graph.less_or_equal", [Const(IntegerType.I64, [1, 1, 1, _s.Context], iota), _position], IntegerType.I1);
            o = Raised("graph.sdpa", [q, k, v, mask]);
        }
        else
        {
            o = Raised("graph.sdpa", [q, k, v], ("is_causal", I(1)));
            var pads = Op("graph.concat", [Const(IntegerType.I64, [6], 0, 0, 0, 0, 0, 0), Op("graph.sub", [Const(IntegerType.I64, [1], _s.Context), _seqLen]), Const(IntegerType.I64, [1], 0)],
                null, ("axis", I(0)));
            k = Op("graph.pad", [k, pads], CacheType);
            v = Op("graph.pad", [v, pads], CacheType);
        }

        o = Op("graph.transpose", [o], null, ("perm", Ints(0, 2, 1, 3)));
        o = Linear(Reshape(o, -1, hq * d), blk + ".attn_output");
        return (o, k, v);
    }

    /// <summary>[S, H·D] → [1, H, S, D], with an optional per-head rms norm.</summary>
    private Value Heads(Value x, long heads, string? norm)
    {
        x = Reshape(x, 1, -1, heads, _s.HeadDim);
        if (norm is not null)
        {
            x = Raised("graph.rms_norm", [x, Weight(norm + ".weight")], ("axis", I(-1)), ("epsilon", new FloatAttr(_s.Epsilon, FloatType.F64)));
        }

        return Op("graph.transpose", [x], null, ("perm", Ints(0, 2, 1, 3)));
    }

    private Value Rope(Value x)
    {
        if (_s.Rope == RopeKind.None)
        {
            return x;
        }

        if (_cos is null)
        {
            var (cos, sin) = RopeTables();
            _cos = Positions(cos);
            _sin = Positions(sin);
        }

        bool partial = _s.RopeDims < _s.HeadDim;
        var rot = partial ? SliceAxis(x, 3, 0, _s.RopeDims) : x;
        var y = Raised("graph.rope", [rot, _cos, _sin!], ("interleaved", I(_s.Rope == RopeKind.Norm ? 1 : 0)));
        return partial ? Op("graph.concat", [y, SliceAxis(x, 3, _s.RopeDims, _s.HeadDim)], null, ("axis", I(3))) : y;
    }

    /// <summary>cos/sin of position · base^(-2i/n_rot), [C, n_rot], laid out for the rope mode; f32 arithmetic as torch does it.</summary>
    private (Value Cos, Value Sin) RopeTables()
    {
        long n = _s.RopeDims, half = n / 2;
        var inv = new float[half];
        for (long i = 0; i < half; i++)
        {
            inv[i] = 1f / MathF.Pow((float)_s.RopeBase, (float)(2 * i) / n);
        }

        var cos = new double[_s.Context * n];
        var sin = new double[_s.Context * n];
        for (long p = 0; p < _s.Context; p++)
        {
            for (long j = 0; j < n; j++)
            {
                float ang = p * inv[_s.Rope == RopeKind.Norm ? j / 2 : j % half];
                cos[(p * n) + j] = MathF.Cos(ang);
                sin[(p * n) + j] = MathF.Sin(ang);
            }
        }

        return (Const(FloatType.F32, [_s.Context, n], cos), Const(FloatType.F32, [_s.Context, n], sin));
    }

    /// <summary>Rows 0..seq-1 of a [C, N] table (prefill) or row `position` (decode).</summary>
    private Value Positions(Value table) => _decode
        ? Op("graph.gather", [table, _position], null, ("axis", I(0)))
        : Op("graph.slice", [table, Const(IntegerType.I64, [1], 0), _seqLen, Const(IntegerType.I64, [1], 0)]);

    private Value Ffn(string blk, Value h)
    {
        switch (_s.Ffn)
        {
            case FfnKind.Gelu:
                return Linear(Gelu(Linear(h, blk + ".ffn_up")), blk + ".ffn_down");
            case FfnKind.FusedGatedSilu:
            {
                var up = Linear(h, blk + ".ffn_up");
                long ff = _w.Info(blk + ".ffn_up.weight").Shape[0] / 2;
                var g = Raised("graph.silu", [SliceAxis(up, 1, 0, ff)]);
                return Linear(Op("graph.mul", [g, SliceAxis(up, 1, ff, 2 * ff)]), blk + ".ffn_down");
            }

            default:
            {
                var gate = Linear(h, blk + ".ffn_gate");
                var act = _s.Ffn == FfnKind.GatedGeluTanh ? Gelu(gate) : Raised("graph.silu", [gate]);
                return Linear(Op("graph.mul", [act, Linear(h, blk + ".ffn_up")]), blk + ".ffn_down");
            }
        }
    }

    private Value Gelu(Value x)
    {
        var op = _b.Create("graph.gelu", Location.Unknown, [x], [new TensorType(null, FloatType.F32)],
            [new("approximate", new StringAttr("tanh")), new(GraphDialect.OpsetAttr, IntegerAttr.I64(20))]);
        return op.Result(0);
    }

    private Value Norm(Value x, string prefix)
    {
        var eps = new FloatAttr(_s.Epsilon, FloatType.F64);
        if (_s.Norm == NormKind.Rms)
        {
            return Raised("graph.rms_norm", [x, Weight(prefix + ".weight")], ("axis", I(-1)), ("epsilon", eps));
        }

        var bias = _w.Has(prefix + ".bias") ? Weight(prefix + ".bias") : _b.Create(GraphDialect.None, Location.Unknown, [], [NoneType.Instance]).Result(0);
        return Raised("graph.layer_norm", [x, Weight(prefix + ".weight"), bias], ("axis", I(-1)), ("epsilon", eps));
    }

    /// <summary>x · Wᵀ (+ b): GGUF matrices are [out, in].</summary>
    private Value Linear(Value x, string prefix)
    {
        var operands = new List<Value> { x, Weight(prefix + ".weight") };
        if (_w.Has(prefix + ".bias"))
        {
            operands.Add(Weight(prefix + ".bias"));
        }

        var y = Op("graph.gemm", operands, null, ("transB", I(1)));
        return y;
    }

    /// <summary>A tensor as f32: the mmapped constant, then dequantize_ggml or cast when it is not f32.</summary>
    private Value Weight(string name)
    {
        if (_values.TryGetValue(name, out var v))
        {
            return v;
        }

        var attr = _w.Attr(name);
        var loc = new NameLoc(name);
        v = _b.Create(ArithDialect.Constant, loc, [], [attr.Type], [new("value", attr)]).Result(0);
        v.NameHint = Hint(name);
        var f32 = TensorType.Of(FloatType.F32, _w.Info(name).Shape);
        var elem = attr.ShapedType.ElementType;
        if (elem is BlockQuantType)
        {
            v = _b.Create("graph.dequantize_ggml", loc, [v], [f32]).Result(0);
        }
        else if (elem != FloatType.F32)
        {
            v = _b.Create("graph.cast", loc, [v], [f32], [new("to", IntegerAttr.I64(1)), new(GraphDialect.OpsetAttr, IntegerAttr.I64(19))]).Result(0);
        }

        _values[name] = v;
        return v;
    }

    private static string Hint(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray());

    private Value SliceAxis(Value x, long axis, long start, long end) =>
        Op("graph.slice", [x, Const(IntegerType.I64, [1], start), Const(IntegerType.I64, [1], end), Const(IntegerType.I64, [1], axis)]);

    private Value Reshape(Value x, params long[] shape) =>
        Op("graph.reshape", [x, Const(IntegerType.I64, [shape.Length], shape.Select(s => (double)s).ToArray())]);

    private Value Const(Type elem, long[] shape, params double[] values)
    {
        var t = TensorType.Of(elem, shape);
        var attr = elem is FloatType ? DenseElementsAttr.FromDoubles(t, values) : DenseElementsAttr.FromLongs(t, values.Select(x => (long)x).ToArray());
        return _b.Create(ArithDialect.Constant, Location.Unknown, [], [t], [new("value", attr)]).Result(0);
    }

    private Value Op(string name, IReadOnlyList<Value> operands, Type? result = null, params (string Key, Attribute Value)[] attrs) =>
        Create(name, operands, result, attrs.Append((GraphDialect.OpsetAttr, IntegerAttr.I64(Opset))));

    private Value Raised(string name, IReadOnlyList<Value> operands, params (string Key, Attribute Value)[] attrs) => Create(name, operands, null, attrs);

    private Value Create(string name, IReadOnlyList<Value> operands, Type? result, IEnumerable<(string Key, Attribute Value)> attrs)
    {
        var type = result ?? (operands.Count > 0 && operands[0].Type is ShapedType { ElementType: var e } ? e : FloatType.F32);
        if (type is not ShapedType)
        {
            type = new TensorType(null, type);
        }

        return _b.Create(name, Location.Unknown, operands, [type], attrs.Select(a => new KeyValuePair<string, Attribute>(a.Key, a.Value)).ToList()).Result(0);
    }

    private static IntegerAttr I(long v) => IntegerAttr.I64(v);

    private static ArrayAttr Ints(params long[] v) => ArrayAttr.Of(v.Select(x => (Attribute)IntegerAttr.I64(x)).ToArray());
}
