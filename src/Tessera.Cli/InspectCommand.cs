using System.CommandLine;
using Tessera.Gguf;
using Tessera.Onnx;

namespace Tessera.Cli;

internal static class InspectCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "An .onnx or .gguf model" };
        var cmd = new Command("inspect", "Describe a model: inputs, outputs, parameters, op histogram, unsupported ops");
        cmd.Arguments.Add(model);
        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            string path = r.GetValue(model)!;
            Console.Out.Write(path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
                ? GgufInspector.Describe(path)
                : ModelInspector.Describe(path));
            return 0;
        }));
        return cmd;
    }
}
