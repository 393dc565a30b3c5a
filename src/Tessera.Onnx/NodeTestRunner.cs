using Tessera.Dialects.Graph;

namespace Tessera.Onnx;

/// <summary>Runs one ONNX conformance node test (model.onnx + test_data_set_0) through import and the reference evaluator.</summary>
public static class NodeTestRunner
{
    public enum Status { Pass, Fail, Unsupported }

    public sealed record Outcome(string Name, Status Status, string Message);

    public const double Rtol = 1e-3, Atol = 1e-7;

    public static Outcome Run(string testDir)
    {
        var name = Path.GetFileName(testDir.TrimEnd('/'));
        try
        {
            var ctx = Tessera.Dialects.Contexts.CreateDefault();
            var module = OnnxImporter.Import(ctx, Path.Combine(testDir, "model.onnx"));
            var func = module.Regions[0].Blocks[0].First!;
            var data = Path.Combine(testDir, "test_data_set_0");
            var inputs = Files(data, "input_").Select(TensorFiles.Read).ToList();
            var expected = Files(data, "output_").Select(TensorFiles.Read).ToList();
            var diags = new DiagnosticBag();
            if (!Verifier.Verify(module, diags))
            {
                return new(name, Status.Fail, "imported IR does not verify: " + diags.Items[0].Message);
            }

            var outputs = GraphEvaluator.Run(func, inputs);
            if (outputs.Count != expected.Count)
            {
                return new(name, Status.Fail, $"{outputs.Count} outputs but {expected.Count} expected");
            }

            for (int i = 0; i < outputs.Count; i++)
            {
                var r = Compare.AllClose(outputs[i], expected[i], Rtol, Atol);
                if (!r.Ok)
                {
                    return new(name, Status.Fail, $"output #{i}: {r.Message}");
                }
            }

            return new(name, Status.Pass, "");
        }
        catch (ImportException e)
        {
            return new(name, Status.Unsupported, e.Diagnostics[0].Message);
        }
        catch (DiagnosticException e) when (e.Diagnostic.Code is OnnxCodes.UnsupportedType or OnnxCodes.BadAttribute or OnnxCodes.UnsupportedOp)
        {
            return new(name, Status.Unsupported, e.Diagnostic.Message);
        }
        catch (DiagnosticException e)
        {
            return new(name, Status.Fail, e.Diagnostic.Render());
        }
        catch (GraphEvaluator.Failure e)
        {
            return new(name, Status.Fail, e.Diagnostic.Render());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A kernel bug must not stop the other tests; it shows as a failure with the exception.
            return new(name, Status.Fail, $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    private static IEnumerable<string> Files(string dir, string prefix) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, prefix + "*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture))
            : [];
}
