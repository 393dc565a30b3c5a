using Tessera.Npu;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// The DRAM memory map of a compiled function: every tensor a step reads or writes gets a 64-byte aligned buffer.
/// Inputs (argument order, as <c>tessera sim --input</c> binds them), weights and outputs (result order) get their own
/// bytes in first-use order; activations (intermediates between steps) are placed after them all by
/// <see cref="PlaceActivations"/>, sharing bytes when their live ranges do not meet. An alias op's result shares its
/// operand's buffer; a returned value's producer writes straight into the output buffer. Names come from the IR's
/// value names, made safe for file names and unique.
/// </summary>
public sealed class DramPlan
{
    private readonly Dictionary<Value, TensorDecl> _buffers = new(ReferenceEqualityComparer.Instance);
    private readonly List<TensorDecl> _decls = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private long _next;

    public IReadOnlyList<TensorDecl> Tensors => _decls;
    public long End => _next;

    /// <summary>Initial contents of weight buffers, by name.</summary>
    public Dictionary<string, byte[]> Data { get; } = new(StringComparer.Ordinal);

    public bool Has(Value v) => _buffers.ContainsKey(v);

    public TensorDecl Of(Value v) => _buffers.TryGetValue(v, out var t) ? t
        : throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported, "internal: a value has no DRAM buffer", v.Location));

    /// <summary>A new buffer for <paramref name="v"/>.</summary>
    public TensorDecl Place(Value v, string role, string fallbackName, byte[]? data = null)
    {
        var type = NpuPlacement.DType(v.Type) ?? throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
            $"a {v.Type} tensor cannot live in NPU DRAM (element types: f16, bf16, f32, i64, i32, i8, i1)", v.Location));
        var t = new TensorDecl(UniqueName(v.NameHint ?? fallbackName), role, role == "activation" ? -1 : _next, NpuPlacement.Shape(v), type);
        if (role != "activation")
        {
            _next = TileCostModel.Align(_next + Math.Max(t.Bytes, 1));
        }

        _decls.Add(t);
        _buffers[v] = t;

        if (data is not null)
        {
            Data[t.Name] = data;
        }

        return t;
    }

    /// <summary>
    /// Gives every activation its address, after all other buffers: in order of first use, each goes to the lowest
    /// aligned offset that overlaps no activation whose live range (first and last step that touch it, inclusive) meets
    /// its own, so a step's inputs and outputs never share bytes.
    /// </summary>
    public void PlaceActivations(IReadOnlyDictionary<TensorDecl, (int First, int Last)> live)
    {
        long bas = _next;
        var placed = new List<(TensorDecl T, int First, int Last)>();
        var map = new Dictionary<TensorDecl, TensorDecl>(ReferenceEqualityComparer.Instance);
        var order = _decls.Where(d => d.Role == "activation").Select((d, i) => (d, i, r: live.TryGetValue(d, out var r) ? r : (First: 0, Last: int.MaxValue)))
            .OrderBy(x => x.r.First).ThenBy(x => x.i);
        foreach (var (d, _, r) in order)
        {
            long at = bas, size = TileCostModel.Align(Math.Max(d.Bytes, 1));
            foreach (var p in placed.Where(p => p.First <= r.Last && r.First <= p.Last).OrderBy(p => p.T.DramAddress))
            {
                if (at + size <= p.T.DramAddress)
                {
                    break;
                }

                at = Math.Max(at, TileCostModel.Align(p.T.DramAddress + Math.Max(p.T.Bytes, 1)));
            }

            var t = d with { DramAddress = at };
            placed.Add((t, r.First, r.Last));
            map[d] = t;
            _next = Math.Max(_next, at + size);
        }

        for (int i = 0; i < _decls.Count; i++)
        {
            _decls[i] = map.GetValueOrDefault(_decls[i], _decls[i]);
        }

        foreach (var v in _buffers.Keys.ToList())
        {
            _buffers[v] = map.GetValueOrDefault(_buffers[v], _buffers[v]);
        }

        Live = placed.ToDictionary(p => p.T.Name, p => (p.First, p.Last), StringComparer.Ordinal);
    }

    /// <summary>Each activation's live range in steps (after <see cref="PlaceActivations"/>), by name.</summary>
    public IReadOnlyDictionary<string, (int First, int Last)> Live { get; private set; } = new Dictionary<string, (int, int)>();

    /// <summary>Makes <paramref name="v"/> use an existing buffer (a producer writing straight into an output).</summary>
    public void Assign(Value v, TensorDecl t) => _buffers[v] = t;

    private string UniqueName(string hint)
    {
        var safe = new string(hint.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_').ToArray()).Trim('.');
        if (safe.Length == 0 || safe.Length > 100)
        {
            safe = "t" + _decls.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var name = safe;
        for (int i = 1; !_names.Add(name); i++)
        {
            name = $"{safe}_{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        }

        return name;
    }
}
