using System.CommandLine;

namespace Tessera.Cli;

internal static class TesseraCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Tessera: an MLIR-style ML compiler for ONNX and GGUF models, targeting a custom NPU, LLVM and PTX.");
        root.Subcommands.Add(OptCommand.Build());
        root.Subcommands.Add(PassesCommand.Build());
        root.Subcommands.Add(ConformanceCommand.Build());
        root.Subcommands.Add(InspectCommand.Build());
        root.Subcommands.Add(CompileCommand.Build());
        root.Subcommands.Add(RunCommand.Build());
        root.Subcommands.Add(GenCommand.Build());
        root.Subcommands.Add(NpuCommands.Asm());
        root.Subcommands.Add(NpuCommands.Disasm());
        root.Subcommands.Add(NpuCommands.Sim());
        return root;
    }
}
