using System.Text;
using Tessera.Dialects;
using Tessera.Dialects.Graph;
using Tessera.Onnx.Proto;

namespace Tessera.Onnx;

/// <summary>
/// ONNX model → <c>builtin.module { func.func @main }</c> of graph ops. Initializers and Constant nodes become
/// arith.constant; every other node becomes the graph op its (op type, domain, opset) maps to, located at its node
/// name. Unsupported ops are all reported together, each naming op type, domain, opset and node.
/// </summary>
public sealed class OnnxImporter
{
    private readonly Context _ctx;
    private readonly string _path;
    private readonly TensorReader _tensors;
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TypeProto> _declared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _opsets = new(StringComparer.Ordinal);
    private readonly DiagnosticBag _unsupported = new();
    private OpBuilder _b = null!;
    private Value? _none;

    private OnnxImporter(Context ctx, string path)
    {
        _ctx = ctx;
        _path = path;
        _tensors = new TensorReader(path);
    }

    /// <summary>Reads and imports <paramref name="path"/>. Throws <see cref="DiagnosticException"/>; several unsupported ops throw <see cref="ImportException"/>.</summary>
    public static Operation Import(Context ctx, string path) => new OnnxImporter(ctx, path).Run(OnnxReader.ReadModel(path));

    public static Operation Import(Context ctx, string path, ModelProto model) => new OnnxImporter(ctx, path).Run(model);

    private Operation Run(ModelProto model)
    {
        foreach (var o in model.OpsetImport)
        {
            _opsets[Domain(o.Domain)] = (int)o.Version;
        }

        var g = model.Graph;
        foreach (var vi in g.ValueInfo.Concat(g.Output).Concat(g.Input))
        {
            if (vi.Type is not null)
            {
                _declared[vi.Name] = vi.Type;
            }
        }

        var module = Operation.Create(_ctx, new OperationState("builtin.module", new NameLoc(_path)) { NumRegions = 1 });
        var moduleBody = module.Regions[0].AddBlock();
        _b = new OpBuilder(_ctx);
        _b.SetInsertionPointToEnd(moduleBody);

        var initializerNames = new HashSet<string>(g.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        var inputs = g.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();
        var inputTypes = inputs.Select(i => TypeOf(i.Type, $"graph input '{i.Name}'")).ToList();
        var func = _b.Create(FuncDialect.Func, new NameLoc(g.Name.Length > 0 ? g.Name : "main"), [], [],
            [new(SymbolTable.SymNameAttr, new StringAttr("main")), new(FuncDialect.FunctionTypeAttr, new TypeAttr(new FunctionType(inputTypes, [])))], regions: 1);
        var body = func.Regions[0].AddBlock();
        for (int i = 0; i < inputs.Count; i++)
        {
            var a = body.AddArgument(inputTypes[i], new NameLoc(inputs[i].Name));
            a.NameHint = Hint(inputs[i].Name);
            _values[inputs[i].Name] = a;
        }

        _b.SetInsertionPointToEnd(body);
        foreach (var t in g.Initializer)
        {
            Define(t.Name, Constant(_tensors.Read(t, $"initializer '{t.Name}'"), new NameLoc(t.Name)));
        }

        for (int n = 0; n < g.Node.Count; n++)
        {
            ImportNode(g.Node[n], n);
        }

        if (_unsupported.HasErrors)
        {
            throw new ImportException(_unsupported.Items);
        }

        var results = g.Output.Select(o => Lookup(o.Name, $"graph output '{o.Name}'", new NameLoc(o.Name))).ToList();
        _b.Create(FuncDialect.Return, new NameLoc("return"), results, []);
        func.SetAttr(FuncDialect.FunctionTypeAttr, new TypeAttr(new FunctionType(inputTypes, results.Select(r => r.Type).ToList())));
        return module;
    }

    private static string Domain(string d) => d is "" or "ai.onnx" ? "" : d;

    private void ImportNode(NodeProto node, int index)
    {
        var name = node.Name.Length > 0 ? node.Name : $"{node.OpType}_{index}";
        var loc = new NameLoc(name);
        var domain = Domain(node.Domain);
        int opset = _opsets.TryGetValue(domain, out var v) ? v : 1;
        if (domain == "" && node.OpType == "Constant")
        {
            Define(node.Output[0], Constant(ConstantValue(node, name), loc));
            return;
        }

        var info = GraphOps.ForOnnx(node.OpType, domain, opset);
        if (info is null)
        {
            _unsupported.Error(OnnxCodes.UnsupportedOp,
                $"{_path}: unsupported op '{node.OpType}' (domain '{(domain.Length == 0 ? "ai.onnx" : domain)}', opset {opset}) at node '{name}'", loc);
            foreach (var o in node.Output.Where(o => o.Length > 0))
            {
                _values[o] = _none ??= NoneValue();
            }

            return;
        }

        var operands = new List<Value>();
        foreach (var input in node.Input)
        {
            operands.Add(input.Length == 0 ? (_none ??= NoneValue()) : Lookup(input, $"input '{input}' of node '{name}'", loc));
        }

        var attrs = new List<KeyValuePair<string, Attribute>>();
        foreach (var a in node.Attribute)
        {
            attrs.Add(new(a.Name, AttributeOf(a, name)));
        }

        attrs.Add(new(GraphDialect.OpsetAttr, IntegerAttr.I64(opset)));
        var inputElems = operands.Select(o => o.Type is ShapedType s ? s.ElementType : null).ToList();
        var ruleCtx = new TypeRuleContext(inputElems, n => attrs.FirstOrDefault(kv => kv.Key == n).Value);
        var resultTypes = new List<Type>();
        for (int i = 0; i < node.Output.Count; i++)
        {
            var outName = node.Output[i];
            if (outName.Length > 0 && _declared.TryGetValue(outName, out var tp) && tp.TensorType is not null && OnnxTypes.ToIr(tp.TensorType.ElemType) is not null)
            {
                resultTypes.Add(TypeOf(tp, $"value '{outName}'"));
            }
            else
            {
                var elem = info.ResultType(ruleCtx, i) ?? inputElems.FirstOrDefault(e => e is not null) ?? FloatType.F32;
                resultTypes.Add(new TensorType(null, elem));
            }
        }

        var op = _b.Create(info.IrName, loc, operands, resultTypes, attrs);
        for (int i = 0; i < node.Output.Count; i++)
        {
            if (node.Output[i].Length > 0)
            {
                Define(node.Output[i], op.Result(i));
            }
        }
    }

    private DenseElementsAttr ConstantValue(NodeProto node, string name)
    {
        foreach (var a in node.Attribute)
        {
            switch (a.Name)
            {
                case "value":
                    return _tensors.Read(a.T, $"Constant node '{name}'");
                case "value_float":
                    return DenseElementsAttr.FromDoubles(TensorType.Of(FloatType.F32), [a.F]);
                case "value_floats":
                    return DenseElementsAttr.FromDoubles(TensorType.Of(FloatType.F32, a.Floats.Count), a.Floats.Select(f => (double)f).ToArray());
                case "value_int":
                    return DenseElementsAttr.FromLongs(TensorType.Of(IntegerType.I64), [a.I]);
                case "value_ints":
                    return DenseElementsAttr.FromLongs(TensorType.Of(IntegerType.I64, a.Ints.Count), a.Ints.ToArray());
            }
        }

        throw OnnxCodes.Error(OnnxCodes.UnsupportedType, _path, $"Constant node '{name}' has no supported value attribute (strings and sparse tensors are not supported)", new NameLoc(name));
    }

    private Attribute AttributeOf(AttributeProto a, string node) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Int => IntegerAttr.I64(a.I),
        AttributeProto.Types.AttributeType.Float => new FloatAttr(a.F, FloatType.F32),
        AttributeProto.Types.AttributeType.String => new StringAttr(Encoding.UTF8.GetString(a.S.Span)),
        AttributeProto.Types.AttributeType.Ints => ArrayAttr.OfInts(a.Ints),
        AttributeProto.Types.AttributeType.Floats => new ArrayAttr(a.Floats.Select(f => (Attribute)new FloatAttr(f, FloatType.F32)).ToList()),
        AttributeProto.Types.AttributeType.Strings => new ArrayAttr(a.Strings.Select(s => (Attribute)new StringAttr(Encoding.UTF8.GetString(s.Span))).ToList()),
        AttributeProto.Types.AttributeType.Tensor => _tensors.Read(a.T, $"attribute '{a.Name}' of node '{node}'"),
        _ => throw OnnxCodes.Error(OnnxCodes.BadAttribute, _path, $"node '{node}': attribute '{a.Name}' of type {a.Type} is not supported (subgraphs, sparse tensors and type protos are not imported)", new NameLoc(node)),
    };

    private Type TypeOf(TypeProto? t, string what)
    {
        if (t?.TensorType is not { } tt)
        {
            throw OnnxCodes.Error(OnnxCodes.UnsupportedType, _path, $"{what} is not a tensor (sequences, maps, optionals and sparse tensors are not supported)");
        }

        var elem = OnnxTypes.ToIr(tt.ElemType)
            ?? throw OnnxCodes.Error(OnnxCodes.UnsupportedType, _path, $"{what} has element type {OnnxTypes.Name(tt.ElemType)}, which is not supported");
        if (tt.Shape is null)
        {
            return new TensorType(null, elem);
        }

        var dims = new List<Dim>();
        foreach (var d in tt.Shape.Dim)
        {
            if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            {
                if (d.DimValue < 0)
                {
                    throw OnnxCodes.Error(OnnxCodes.ImpossibleShape, _path, $"{what} has dimension {d.DimValue}");
                }

                dims.Add(new Dim(d.DimValue));
            }
            else
            {
                dims.Add(Dim.Dynamic(d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? Symbol(d.DimParam) : null));
            }
        }

        return new TensorType(dims, elem);
    }

    private static string? Symbol(string p)
    {
        var s = new string(p.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray());
        return s.Length == 0 ? null : s;
    }

    /// <summary>ONNX names may hold '/', ':' and other characters; the IR keeps a sanitized version as the printed name.</summary>
    public static string? Hint(string name)
    {
        var s = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_').ToArray()).Trim('.');
        if (s.Length == 0)
        {
            return null;
        }

        return char.IsAsciiLetter(s[0]) || s[0] == '_' ? s : "v" + s;
    }

    private Value Constant(DenseElementsAttr value, Location loc) =>
        _b.Create(ArithDialect.Constant, loc, [], [value.Type], [new("value", value)]).Result(0);

    private Value NoneValue() => _b.Create(GraphDialect.None, Location.Unknown, [], [NoneType.Instance]).Result(0);

    private void Define(string name, Value v)
    {
        v.NameHint ??= Hint(name);
        _values[name] = v;
    }

    private Value Lookup(string name, string what, Location loc) =>
        _values.TryGetValue(name, out var v)
            ? v
            : throw OnnxCodes.Error(OnnxCodes.UndefinedValue, _path, $"{what} is not produced by any earlier node, initializer or graph input", loc);
}

/// <summary>Several diagnostics from one import (every unsupported op at once).</summary>
public sealed class ImportException(IReadOnlyList<Diagnostic> diagnostics) : Exception(string.Join("\n", diagnostics.Select(d => d.Render())))
{
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}
