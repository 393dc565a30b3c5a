using Tessera.IR;

namespace Tessera.Cli;

/// <summary>Reading the input and writing the output safely: never onto the input, never half-written.</summary>
internal static class CliIo
{
    public static int RunWithInputAndOutput(string input, string? outputPath, Func<string, string, TextWriter, int> run)
    {
        string text;
        string name;
        try
        {
            if (input == "-")
            {
                text = Console.In.ReadToEnd();
                name = "<stdin>";
            }
            else
            {
                if (!File.Exists(input))
                {
                    return Error(DiagnosticCodes.FileNotFound, $"{input}: no such file");
                }

                text = File.ReadAllText(input);
                name = input;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Error(DiagnosticCodes.FileUnreadable, $"{input}: cannot read: {e.Message}");
        }

        if (outputPath is null)
        {
            return run(text, name, Console.Out);
        }

        var writer = new StringWriter();
        int code = run(text, name, writer);
        return code != 0 ? code : WriteOutput(input == "-" ? null : input, outputPath, writer.ToString());
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="outputPath"/> unless that is the input; never leaves a half-written file.</summary>
    public static int WriteOutput(string? input, string outputPath, string text)
    {
        if (input is not null && SamePath(input, outputPath))
        {
            return Error(DiagnosticCodes.OutputRefused, $"{outputPath}: refusing to overwrite the input file");
        }

        try
        {
            // Write beside the target, then rename, so a failure never leaves a half-written file.
            var full = Path.GetFullPath(outputPath);
            var tmp = full + ".tmp-" + Environment.ProcessId;
            File.WriteAllText(tmp, text);
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Error(DiagnosticCodes.OutputRefused, $"{outputPath}: cannot write: {e.Message}");
        }

        return 0;
    }

    private static bool SamePath(string a, string b)
    {
        static string Canon(string p)
        {
            var full = Path.GetFullPath(p);
            var info = new FileInfo(full);
            return info.Exists && info.ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : full;
        }

        return Canon(a) == Canon(b);
    }

    private static int Error(string code, string message)
    {
        Console.Error.WriteLine($"error {code}: {message}");
        return 1;
    }
}
