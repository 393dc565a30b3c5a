using Tessera.Dialects;

namespace Tessera.Tests.IR;

/// <summary>Randomly built IR (fixed seeds) survives print → parse → print, in every print mode.</summary>
public class RoundTripPropertyTests
{
    private static readonly Type[] ScalarTypes = [IntegerType.I1, IntegerType.I8, IntegerType.I32, IntegerType.I64, IntegerType.U8, FloatType.F16, FloatType.BF16, FloatType.F32, FloatType.F64, IndexType.Instance];

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 25).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomIrRoundTrips(int seed)
    {
        var ctx = Contexts.CreateDefault(allowUnregistered: true);
        var module = new RandomIr(ctx, new Random(seed)).Module();
        foreach (var options in new[] { PrintOptions.Default, PrintOptions.Full, PrintOptions.GenericWithLocations })
        {
            var first = Printer.PrintOp(module, options);
            var reparsed = Parser.ParseModule(ctx, first, $"seed{seed}.tir");
            var second = Printer.PrintOp(reparsed, options);
            Assert.Equal(first, second);
            Assert.Equal(module.Walk().Count(), reparsed.Walk().Count());
        }
    }

    private sealed class RandomIr(Context ctx, Random rng)
    {
        private readonly OpBuilder _b = new(ctx);

        public Operation Module()
        {
            var module = Operation.Create(ctx, new OperationState("builtin.module", Location.Unknown) { NumRegions = 1 });
            var body = module.Regions[0].AddBlock();
            int funcs = rng.Next(1, 4);
            for (int f = 0; f < funcs; f++)
            {
                _b.SetInsertionPointToEnd(body);
                Func(f);
            }

            return module;
        }

        private void Func(int index)
        {
            var args = Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Pick(ScalarTypes)).ToList();
            var ft = new FunctionType(args, []);
            var func = _b.Create("func.func", Loc(), [], [],
                [new("sym_name", new StringAttr("f" + index)), new("function_type", new TypeAttr(ft))], regions: 1);
            var entry = func.Regions[0].AddBlock();
            var live = new List<Value>();
            foreach (var t in args)
            {
                var a = entry.AddArgument(t, Loc());
                a.NameHint = rng.Next(3) == 0 ? "in" + rng.Next(5) : null;
                live.Add(a);
            }

            _b.SetInsertionPointToEnd(entry);
            Body(live, depth: 0);
            if (rng.Next(3) == 0)
            {
                // A second block reached through a branch, taking one argument.
                var next = func.Regions[0].AddBlock();
                var t = Pick(ScalarTypes);
                var c = Constant(t);
                _b.Create("cf.br", Loc(), [], []);
                entry.Last!.AddSuccessor(next, [c]);
                var arg = next.AddArgument(t, Loc());
                _b.SetInsertionPointToEnd(next);
                Body([arg], depth: 0);
            }

            _b.Create("func.return", Loc(), [], []);
        }

        private void Body(List<Value> live, int depth)
        {
            int n = rng.Next(1, 12);
            for (int i = 0; i < n; i++)
            {
                switch (rng.Next(6))
                {
                    case 0:
                    case 1:
                        live.Add(Constant(Pick(ScalarTypes)));
                        break;
                    case 2:
                        {
                            var x = live.Count > 0 ? Pick(live) : Constant(IntegerType.I32);
                            var op = _b.Create(x.Type is FloatType ? "arith.addf" : "arith.addi", Loc(), [x, x], [x.Type]);
                            op.Result(0).NameHint = rng.Next(2) == 0 ? "sum" : null;
                            live.Add(op.Result(0));
                            break;
                        }

                    case 3:
                        {
                            var results = Enumerable.Range(0, rng.Next(0, 3)).Select(_ => Pick(ScalarTypes)).ToList();
                            var operands = live.Count == 0 ? [] : Enumerable.Range(0, rng.Next(0, 3)).Select(_ => Pick(live)).ToList();
                            var op = _b.Create("test.op" + rng.Next(3), Loc(), operands, results, RandomAttrs());
                            live.AddRange(op.Results);
                            break;
                        }

                    case 4 when depth < 3:
                        {
                            var op = _b.Create("test.region", Loc(), [], [], RandomAttrs(), regions: 1);
                            var block = op.Regions[0].AddBlock();
                            if (rng.Next(2) == 0)
                            {
                                block.AddArgument(Pick(ScalarTypes), Loc());
                            }

                            var ip = _b.SaveInsertionPoint();
                            _b.SetInsertionPointToEnd(block);
                            Body([.. live, .. block.Arguments], depth + 1);
                            _b.RestoreInsertionPoint(ip);
                            break;
                        }

                    default:
                        live.Add(Constant(TensorType.Of(Pick<Type>([FloatType.F32, IntegerType.I8, FloatType.F16]), rng.Next(1, 4), rng.Next(1, 5))));
                        break;
                }
            }
        }

        private Value Constant(Type t)
        {
            Attribute value = t switch
            {
                FloatType f => new FloatAttr(rng.Next(8) switch { 0 => double.NaN, 1 => double.NegativeInfinity, 2 => -0.0, _ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 8)) }, f),
                IntegerType { Width: 1 } => new IntegerAttr(rng.Next(2), t),
                IntegerType { IsUnsigned: true } i => new IntegerAttr(rng.Next(0, 1 << Math.Min(i.Width, 16)), t),
                IntegerType i => new IntegerAttr(rng.Next(-(1 << Math.Min(i.Width - 1, 16)), 1 << Math.Min(i.Width - 1, 16)), t),
                IndexType => new IntegerAttr(rng.Next(0, 1000), t),
                TensorType tt when tt.ElementType is FloatType => rng.Next(4) == 0
                    ? DenseElementsAttr.FromDoubles(tt, [rng.NextDouble()])
                    : DenseElementsAttr.FromDoubles(tt, Enumerable.Range(0, (int)tt.ElementCount!).Select(_ => Math.Round(rng.NextDouble() * 100, rng.Next(0, 6))).ToArray()),
                TensorType tt => DenseElementsAttr.FromLongs(tt, Enumerable.Range(0, (int)tt.ElementCount!).Select(_ => (long)rng.Next(-128, 128)).ToArray()),
                _ => throw new InvalidOperationException(),
            };
            var op = _b.Create("arith.constant", Loc(), [], [t], [new("value", value)]);
            op.Result(0).NameHint = rng.Next(4) == 0 ? "c" : null;
            return op.Result(0);
        }

        private List<KeyValuePair<string, Attribute>> RandomAttrs()
        {
            var list = new List<KeyValuePair<string, Attribute>>();
            int n = rng.Next(0, 4);
            for (int i = 0; i < n; i++)
            {
                list.Add(new("k" + i, RandomAttr(0)));
            }

            return list;
        }

        private Attribute RandomAttr(int depth) => rng.Next(depth < 2 ? 10 : 7) switch
        {
            0 => new IntegerAttr(rng.Next(-1000, 1000), Pick<Type>([IntegerType.I64, IntegerType.I32, IndexType.Instance])),
            1 => new FloatAttr(rng.NextDouble() * 1e3, Pick([FloatType.F32, FloatType.F64])),
            2 => BoolAttr.Get(rng.Next(2) == 0),
            3 => new StringAttr(Pick(["", "x y", "quote\"d", "tab\tnewline\n", "ünï"])),
            4 => new TypeAttr(Pick(ScalarTypes)),
            5 => new SymbolRefAttr("f" + rng.Next(3), rng.Next(2) == 0 ? ["inner"] : null),
            6 => UnitAttr.Instance,
            7 => new ArrayAttr(Enumerable.Range(0, rng.Next(0, 3)).Select(_ => RandomAttr(depth + 1)).ToList()),
            _ => new DictionaryAttr(Enumerable.Range(0, rng.Next(0, 3)).Select(i => new KeyValuePair<string, Attribute>("d" + i, RandomAttr(depth + 1)))),
        };

        private Location Loc() => rng.Next(4) switch
        {
            0 => Location.Unknown,
            1 => new FileLineColLoc("m.onnx", rng.Next(1, 100), rng.Next(1, 80)),
            2 => new NameLoc("/layers.0/attn/MatMul_" + rng.Next(9)),
            _ => new CallSiteLoc(new NameLoc("callee"), new FileLineColLoc("a.tir", 3, 4)),
        };

        private T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];
    }
}
