using System.CommandLine;
using Tessera.Onnx;

namespace Tessera.Cli;

internal static class InspectCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "An .onnx model" };
        var cmd = new Command("inspect", "Describe a model: inputs, outputs, parameters, op histogram, unsupported ops");
        cmd.Arguments.Add(model);
        cmd.SetAction(r => CliErrors.Guard(() =>
        {
            Console.Out.Write(ModelInspector.Describe(r.GetValue(model)!));
            return 0;
        }));
        return cmd;
    }
}
