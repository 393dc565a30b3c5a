using Tessera.IR;

namespace Tessera.Dialects;

/// <summary>Scalar and elementwise tensor arithmetic with constant folding, as MLIR's arith dialect.</summary>
public sealed partial class ArithDialect : Dialect
{
    public override string Name => "arith";

    private const OpTraits Binary = OpTraits.Pure | OpTraits.Elementwise | OpTraits.SameOperandsAndResultType;
    private const OpTraits CommutativeBinary = Binary | OpTraits.Commutative;

    public static readonly OpDef Constant = OpDef.Define("arith.constant", "a constant scalar or tensor")
        .Attr("value", AC.Typed)
        .Result("result", TC.Any)
        .With(OpTraits.Pure | OpTraits.ConstantLike)
        .Verify(op => op.GetAttr("value") is ITypedAttribute t && op.NumResults == 1 && t.Type != op.Result(0).Type
            ? $"value of type {t.Type} does not match result type {op.Result(0).Type}" : null)
        .Fold((op, _) => [op.GetAttr("value")!])
        .CustomSyntax(new ConstantSyntax());

    public static readonly OpDef AddI = IntBinary("arith.addi", "integer addition", CommutativeBinary, (a, b) => a + b)
        .Canonicalize(
            // (x + c1) + c2 -> x + (c1 + c2)
            new Rule("addi-reassociate-constants",
                Pat.Op("arith.addi", Pat.Op("arith.addi", Pat.Any("x"), Pat.Constant("c1")), Pat.Constant("c2")),
                (m, rw) => ReplaceWithBinaryOfConstants(m, rw, "arith.addi", (a, b) => a + b)),
            // (x - y) + y -> x
            Rule.ToCapture("addi-of-subi", Pat.Commutative("arith.addi", Pat.Op("arith.subi", Pat.Any("x"), Pat.Any("y")), Pat.Any("y")), "x"));

    public static readonly OpDef SubI = IntBinary("arith.subi", "integer subtraction", Binary, (a, b) => a - b)
        .Canonicalize(
            // (x + y) - y -> x
            Rule.ToCapture("subi-of-addi", Pat.Op("arith.subi", Pat.Commutative("arith.addi", Pat.Any("x"), Pat.Any("y")), Pat.Any("y")), "x"));

    public static readonly OpDef MulI = IntBinary("arith.muli", "integer multiplication", CommutativeBinary, (a, b) => a * b)
        .Canonicalize(
            // (x * c1) * c2 -> x * (c1 * c2)
            new Rule("muli-reassociate-constants",
                Pat.Op("arith.muli", Pat.Op("arith.muli", Pat.Any("x"), Pat.Constant("c1")), Pat.Constant("c2")),
                (m, rw) => ReplaceWithBinaryOfConstants(m, rw, "arith.muli", (a, b) => a * b)));

    public static readonly OpDef DivSI = IntBinary("arith.divsi", "signed integer division, rounding toward zero", Binary,
        (a, b) => b == 0 || (a == long.MinValue && b == -1) ? null : a / b);

    public static readonly OpDef RemSI = IntBinary("arith.remsi", "signed integer remainder", Binary,
        (a, b) => b == 0 || (a == long.MinValue && b == -1) ? null : a % b);

    public static readonly OpDef AndI = IntBinary("arith.andi", "bitwise and", CommutativeBinary | OpTraits.Idempotent, (a, b) => a & b);
    public static readonly OpDef OrI = IntBinary("arith.ori", "bitwise or", CommutativeBinary | OpTraits.Idempotent, (a, b) => a | b);
    public static readonly OpDef XOrI = IntBinary("arith.xori", "bitwise exclusive or", CommutativeBinary, (a, b) => a ^ b);

    public static readonly OpDef AddF = FloatBinary("arith.addf", "floating-point addition", CommutativeBinary, (a, b) => a + b);
    public static readonly OpDef SubF = FloatBinary("arith.subf", "floating-point subtraction", Binary, (a, b) => a - b);
    public static readonly OpDef MulF = FloatBinary("arith.mulf", "floating-point multiplication", CommutativeBinary, (a, b) => a * b);
    public static readonly OpDef DivF = FloatBinary("arith.divf", "floating-point division", Binary, (a, b) => a / b);
    public static readonly OpDef MaximumF = FloatBinary("arith.maximumf", "floating-point maximum (NaN-propagating)", CommutativeBinary | OpTraits.Idempotent,
        (a, b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b));
    public static readonly OpDef MinimumF = FloatBinary("arith.minimumf", "floating-point minimum (NaN-propagating)", CommutativeBinary | OpTraits.Idempotent,
        (a, b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b));

    public static readonly OpDef NegF = OpDef.Define("arith.negf", "floating-point negation")
        .Operand("operand", TC.FloatLike)
        .Result("result", TC.FloatLike)
        .With(OpTraits.Pure | OpTraits.Elementwise | OpTraits.SameOperandsAndResultType | OpTraits.Involution)
        .Fold((op, c) => FoldUnaryFloat(op, c, a => -a));

    public static readonly OpDef CmpI = OpDef.Define("arith.cmpi", "integer comparison")
        .Attr("predicate", AC.OneOf("eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"))
        .Operand("lhs", TC.IntLike)
        .Operand("rhs", TC.IntLike)
        .Result("result", TC.BoolLike)
        .With(OpTraits.Pure | OpTraits.Elementwise)
        .Verify(op => op.NumOperands == 2 && op.Operand(0).Type != op.Operand(1).Type ? "operands must have the same type" : null)
        .Fold(FoldCmpI);

    public static readonly OpDef Select = OpDef.Define("arith.select", "picks the true or false value by a condition")
        .Operand("condition", TC.Bool)
        .Operand("true_value", TC.Any)
        .Operand("false_value", TC.Any)
        .Result("result", TC.Any)
        .With(OpTraits.Pure)
        .Verify(op => op.NumOperands == 3 && op.NumResults == 1 && (op.Operand(1).Type != op.Result(0).Type || op.Operand(2).Type != op.Result(0).Type)
            ? "true and false values must have the result type" : null)
        .Fold(FoldSelect);

    public override IEnumerable<OpDef> Ops =>
        [Constant, AddI, SubI, MulI, DivSI, RemSI, AndI, OrI, XOrI, AddF, SubF, MulF, DivF, MaximumF, MinimumF, NegF, CmpI, Select];

    public override Operation? MaterializeConstant(OpBuilder builder, Attribute value, Type type, Location location)
    {
        if (value is not ITypedAttribute t || t.Type != type)
        {
            return null;
        }

        return builder.Create(Constant, location, [], [type], [new("value", value)]);
    }

    /// <summary><c>arith.constant 42 : i32</c>: the result type is the value's type.</summary>
    private sealed class ConstantSyntax : IOpSyntax
    {
        public void Print(Operation op, Printer p)
        {
            p.Write(op.Name).Write(' ');
            var value = op.GetAttr("value");
            if (value is ITypedAttribute t && op.NumResults == 1 && t.Type == op.Result(0).Type && op.Attributes.Count() == 1)
            {
                p.PrintAttribute(value);
                if (value is IntegerAttr { Type: IntegerType { Width: 64, IsUnsigned: false } } || (value is FloatAttr { FloatType.Kind: FloatKind.F64 } f && double.IsFinite(f.Value)))
                {
                    p.Write(" : ").Write(t.Type.Text);
                }

                return;
            }

            // Anything unusual (a mismatched type, extra attributes) prints generically so nothing is lost.
            p.Write("generic");
            p.PrintOptionalAttrDict(op);
            p.PrintSignature([], op.Results.Select(r => (Type?)r.Type));
        }

        public Operation Parse(OpParser parser, string name, Location location)
        {
            var s = new OperationState(name, location);
            if (parser.TryKeyword("generic"))
            {
                if (parser.Peek().Is("{"))
                {
                    s.Attributes.AddRange(parser.ParseAttrDict());
                }

                s.ResultTypes.AddRange(parser.ParseSignature(0, name).Results);
                return Operation.Create(parser.Context, s);
            }

            var value = parser.ParseAttribute("as constant value");
            if (value is not ITypedAttribute t)
            {
                throw parser.Error(DiagnosticCodes.ParseBadAttribute, "a constant needs a typed value such as 1 : i32 or dense<...> : tensor<...>");
            }

            s.AddAttr("value", value).AddTypes(t.Type);
            return Operation.Create(parser.Context, s);
        }
    }
}
