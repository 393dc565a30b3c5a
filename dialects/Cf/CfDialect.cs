using Tessera.IR;

namespace Tessera.Dialects;

/// <summary>Unstructured control flow between blocks of a region.</summary>
public sealed class CfDialect : Dialect
{
    public override string Name => "cf";

    public static readonly OpDef Br = OpDef.Define("cf.br", "branches to a block, passing its arguments")
        .With(OpTraits.Pure | OpTraits.Terminator)
        .SuccessorCount(1);

    public static readonly OpDef CondBr = OpDef.Define("cf.cond_br", "branches to the first block if the condition holds, else the second")
        .Operand("condition", TC.Bool)
        .With(OpTraits.Pure | OpTraits.Terminator)
        .SuccessorCount(2);

    public override IEnumerable<OpDef> Ops => [Br, CondBr];
}
