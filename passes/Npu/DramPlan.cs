using Tessera.Npu;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;

namespace Tessera.Passes.Npu;

/// <summary>
/// The DRAM memory map of a compiled function: every tensor a step reads or writes gets a 64-byte aligned buffer, in
/// this order: inputs (argument order, as <c>tessera sim --input</c> binds them), weights, outputs (result order), then
/// activations. An alias op's result shares its operand's buffer; a returned value's producer writes straight into the
/// output buffer. Names come from the IR's value names, made safe for file names and unique.
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

    /// <summary>A new buffer for <paramref name="v"/>; with <paramref name="layout"/> (a different layout of v's data,
    /// such as a transposed weight) the buffer gets that shape and a name suffix and does not stand for v.</summary>
    public TensorDecl Place(Value v, string role, string fallbackName, byte[]? data = null, (long[] Shape, string Suffix)? layout = null)
    {
        var type = NpuPlacement.DType(v.Type) ?? throw new DiagnosticException(new Diagnostic(Severity.Error, NpuCodes.LowerUnsupported,
            $"a {v.Type} tensor cannot live in NPU DRAM (element types: f16, bf16, f32, i64, i32, i8, i1)", v.Location));
        var t = new TensorDecl(UniqueName((v.NameHint ?? fallbackName) + (layout?.Suffix ?? "")), role, _next, layout?.Shape ?? NpuPlacement.Shape(v), type);
        _next = TileCostModel.Align(_next + Math.Max(t.Bytes, 1));
        _decls.Add(t);
        if (layout is null)
        {
            _buffers[v] = t;
        }

        if (data is not null)
        {
            Data[t.Name] = data;
        }

        return t;
    }

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
