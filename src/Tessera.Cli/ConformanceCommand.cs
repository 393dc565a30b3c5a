using System.CommandLine;
using Tessera.Onnx;

namespace Tessera.Cli;

/// <summary><c>tessera conformance</c>: runs ONNX node tests through import and the reference evaluator.</summary>
internal static class ConformanceCommand
{
    public static Command Build()
    {
        var corpus = new Option<string>("--corpus") { Description = "Folder of ONNX node tests (each <test>/model.onnx + test_data_set_0/)", DefaultValueFactory = _ => "../shared/corpus/onnx-node" };
        var filter = new Option<string?>("--filter") { Description = "Run only tests whose names start with this prefix (e.g. test_add)" };
        var list = new Option<string?>("--write-passing") { Description = "Write the names of the passing tests to this file, one per line" };
        var quiet = new Option<bool>("--quiet") { Description = "Print only failures and the summary" };
        var table = new Option<string?>("--write-op-table") { Description = "Write the operator support table (docs/onnx-ops.md) here" };
        var cmd = new Command("conformance", "Run ONNX conformance node tests on the reference evaluator (rtol 1e-3, atol 1e-7)");
        cmd.Options.Add(corpus);
        cmd.Options.Add(filter);
        cmd.Options.Add(list);
        cmd.Options.Add(quiet);
        cmd.Options.Add(table);
        cmd.SetAction(r =>
        {
            var dir = r.GetValue(corpus)!;
            if (!Directory.Exists(dir))
            {
                Console.Error.WriteLine($"error {IR.DiagnosticCodes.FileNotFound}: {dir}: no such folder");
                return 1;
            }

            var prefix = r.GetValue(filter) ?? "test_";
            var tests = Directory.EnumerateDirectories(dir).Select(Path.GetFileName).Where(n => n!.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            var passing = new List<string>();
            var outcomes = new List<NodeTestRunner.Outcome>();
            int fail = 0, unsupported = 0;
            foreach (var t in tests)
            {
                var o = NodeTestRunner.Run(Path.Combine(dir, t!));
                outcomes.Add(o);
                switch (o.Status)
                {
                    case NodeTestRunner.Status.Pass:
                        passing.Add(t!);
                        if (!r.GetValue(quiet))
                        {
                            Console.Out.WriteLine($"PASS {t}");
                        }

                        break;
                    case NodeTestRunner.Status.Fail:
                        fail++;
                        Console.Out.WriteLine($"FAIL {t}: {o.Message}");
                        break;
                    default:
                        unsupported++;
                        if (!r.GetValue(quiet))
                        {
                            Console.Out.WriteLine($"UNSUPPORTED {t}: {o.Message}");
                        }

                        break;
                }
            }

            Console.Out.WriteLine($"{passing.Count} passed, {fail} failed, {unsupported} unsupported of {tests.Count}");
            if (r.GetValue(list) is { } path)
            {
                File.WriteAllLines(path, passing);
            }

            if (r.GetValue(table) is { } tablePath)
            {
                File.WriteAllText(tablePath, OpTable.Generate(dir, outcomes));
            }

            return 0;
        });
        return cmd;
    }
}
