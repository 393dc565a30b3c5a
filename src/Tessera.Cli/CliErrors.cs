using Tessera.Dialects.Graph;
using Tessera.IR;
using Tessera.Onnx;

namespace Tessera.Cli;

/// <summary>User errors print as coded diagnostics with exit code 1; anything else is an internal error, exit code 2.</summary>
internal static class CliErrors
{
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (DiagnosticException e)
        {
            Console.Error.WriteLine(e.Diagnostic.Render());
            return 1;
        }
        catch (ImportException e)
        {
            foreach (var d in e.Diagnostics)
            {
                Console.Error.WriteLine(d.Render());
            }

            return 1;
        }
        catch (GraphEvaluator.Failure e)
        {
            Console.Error.WriteLine(e.Diagnostic.Render());
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"internal error {DiagnosticCodes.PassInternalError}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            return 2;
        }
    }
}
