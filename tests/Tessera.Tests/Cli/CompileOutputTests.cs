namespace Tessera.Tests.Cli;

public class CompileOutputTests
{
    [Fact]
    public void CompileRefusesToOverwriteItsInput()
    {
        var dir = Directory.CreateTempSubdirectory("tessera-compile-").FullName;
        try
        {
            var model = Path.Combine(dir, "m.tir");
            File.WriteAllText(model, "func.func private @f()\n");
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "tessera.dll"), "compile", model, "--emit", "ir", "-o", model })
            {
                psi.ArgumentList.Add(a);
            }

            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(1, p.ExitCode);
            Assert.Contains(DiagnosticCodes.OutputRefused, err);
            Assert.Equal("func.func private @f()\n", File.ReadAllText(model));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
