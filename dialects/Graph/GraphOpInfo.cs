namespace Tessera.Dialects.Graph;

/// <summary>Computes an op's results from its inputs. Inputs absent in the model (optional ONNX inputs) are null.</summary>
public delegate IReadOnlyList<NDArray> Kernel(KernelContext k);

/// <summary>The element type of result <c>index</c>, from the inputs' element types and the op's attributes; null if unknown.</summary>
public delegate Type? ElementTypeRule(TypeRuleContext c, int index);

/// <summary>
/// One row of the graph dialect's op table: the ONNX op it imports (name, domain, first opset), the IR op name,
/// the reference kernel and the result element type rule. Op sets in Ops/ are lists of these rows.
/// </summary>
public sealed record GraphOpInfo(string IrName, string? OnnxName, string Domain, int SinceVersion, Kernel Kernel)
{
    public ElementTypeRule ResultType { get; init; } = Rules.SameAsInput(0);
    public int NumResults { get; init; } = 1;

    /// <summary>Ops with side effects or randomness must not be folded or merged.</summary>
    public bool Pure { get; init; } = true;

    public string Summary { get; init; } = "";

    /// <summary>Whether the kernel takes block-quantized (<see cref="NDArray.Opaque"/>) inputs; other ops are given decoded tensors only.</summary>
    public bool TakesBlockQuantized { get; init; }

    /// <summary>The IR name for an ONNX op: <c>MatMul</c> → <c>graph.mat_mul</c>; com.microsoft ops get an <c>ms_</c> prefix.</summary>
    public static string IrNameFor(string onnxName, string domain)
    {
        var sb = new System.Text.StringBuilder("graph.");
        if (domain == "com.microsoft")
        {
            sb.Append("ms_");
        }

        for (int i = 0; i < onnxName.Length; i++)
        {
            char c = onnxName[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(onnxName[i - 1]) || (i + 1 < onnxName.Length && char.IsLower(onnxName[i + 1]) && char.IsUpper(onnxName[i - 1]))))
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }

    /// <summary>A row for an op of the default ONNX domain.</summary>
    public static GraphOpInfo Onnx(string name, Kernel kernel, int since = 1) => new(IrNameFor(name, ""), name, "", since, kernel);

    /// <summary>A row for an op of ONNX Runtime's com.microsoft domain.</summary>
    public static GraphOpInfo Microsoft(string name, Kernel kernel) => new(IrNameFor(name, "com.microsoft"), name, "com.microsoft", 1, kernel);
}

public sealed class TypeRuleContext(IReadOnlyList<Type?> inputElementTypes, Func<string, Attribute?> attribute)
{
    public IReadOnlyList<Type?> Inputs { get; } = inputElementTypes;
    public Attribute? Attr(string name) => attribute(name);
    public long? Int(string name) => Attr(name) is IntegerAttr i ? i.Value : null;
}

public static class Rules
{
    public static ElementTypeRule SameAsInput(int i) => (c, _) => i < c.Inputs.Count ? c.Inputs[i] : null;
    public static ElementTypeRule Fixed(Type t) => (_, _) => t;
    public static readonly ElementTypeRule Bool = Fixed(IntegerType.I1);
    public static readonly ElementTypeRule I64 = Fixed(IntegerType.I64);

    /// <summary>The ONNX data type number in attribute <paramref name="name"/> (Cast's <c>to</c>).</summary>
    public static ElementTypeRule FromDtypeAttr(string name, ElementTypeRule? fallback = null) =>
        (c, i) => c.Int(name) is long dt ? OnnxTypes.ToIr((int)dt) : fallback?.Invoke(c, i);
}

/// <summary>What a kernel sees: the op (for its attributes), its inputs and the opset version of its domain.</summary>
public sealed class KernelContext(Operation op, IReadOnlyList<NDArray?> inputs, int opset)
{
    public Operation Op { get; } = op;
    public IReadOnlyList<NDArray?> Inputs { get; } = inputs;
    public int Opset { get; } = opset;
    public int NumInputs => Inputs.Count;

    /// <summary>The declared type of result <paramref name="i"/> in the IR, e.g. to pick an output element type.</summary>
    public Type? ResultElementType(int i = 0) => i < Op.NumResults && Op.Result(i).Type is ShapedType s ? s.ElementType : null;

    public NDArray? Input(int i) => i < Inputs.Count ? Inputs[i] : null;
    public NDArray In(int i) => Input(i) ?? throw new EvalException($"input #{i} is required");

    public bool Has(string name) => Op.HasAttr(name);
    public long Int(string name, long def) => Op.GetAttr(name) is IntegerAttr i ? i.Value : def;
    public long? OptInt(string name) => Op.GetAttr(name) is IntegerAttr i ? i.Value : null;
    public double Float(string name, double def) => Op.GetAttr(name) switch { FloatAttr f => f.Value, IntegerAttr i => i.Value, _ => def };
    public string Str(string name, string def) => Op.GetAttr(name) is StringAttr s ? s.Value : def;

    public long[]? Ints(string name) => Op.GetAttr(name) is ArrayAttr a ? a.Elements.Select(e => e is IntegerAttr i ? i.Value : throw new EvalException($"attribute '{name}' must hold integers")).ToArray() : null;
    public double[]? Floats(string name) => Op.GetAttr(name) is ArrayAttr a ? a.Elements.Select(e => e switch { FloatAttr f => f.Value, IntegerAttr i => (double)i.Value, _ => throw new EvalException($"attribute '{name}' must hold numbers") }).ToArray() : null;
    public string[]? Strs(string name) => Op.GetAttr(name) is ArrayAttr a ? a.Elements.Select(e => (e as StringAttr)?.Value ?? "").ToArray() : null;
    public NDArray? TensorAttr(string name) => Op.GetAttr(name) is DenseElementsAttr d ? Convert.FromAttr(d) : null;

    /// <summary>Normalizes a possibly negative axis against <paramref name="rank"/>.</summary>
    public static int Axis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1))
        {
            throw new EvalException($"axis {axis} is out of range for rank {rank}");
        }

        return (int)a;
    }
}
