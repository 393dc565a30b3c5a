using System.CommandLine;
using Tessera.Passes;

namespace Tessera.Cli;

/// <summary><c>tessera passes</c>: every registered pass with its options, and the named pipelines (-O0..-O3).</summary>
internal static class PassesCommand
{
    public static Command Build()
    {
        var cmd = new Command("passes", "List the registered passes, their options, and the named pipelines");
        cmd.SetAction(_ =>
        {
            Console.Out.Write(DefaultPasses.CreateRegistry().FormatList());
            return 0;
        });
        return cmd;
    }
}
