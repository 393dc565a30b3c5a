namespace Tessera.Onnx;

/// <summary>Loads what the CLI and the build task accept as a model: ONNX files, or Tessera IR text.</summary>
public static class ModelLoader
{
    /// <summary>Returns the module; throws <see cref="DiagnosticException"/> or <see cref="ImportException"/> on bad input.</summary>
    public static Operation Load(Context ctx, string path)
    {
        if (path.EndsWith(".tir", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(path))
            {
                throw OnnxCodes.Error(OnnxCodes.FileUnreadable, path, "no such file");
            }

            return Parser.ParseModule(ctx, File.ReadAllText(path), path);
        }

        return OnnxImporter.Import(ctx, path);
    }

    /// <summary>The entry function: <c>@main</c>, or the first function of the module.</summary>
    public static Operation? EntryFunction(Operation module, string name = "main")
    {
        var funcs = module.Regions[0].Operations.Where(o => o.Name == "func.func" && o.Regions[0].Blocks.Count > 0).ToList();
        return funcs.FirstOrDefault(f => SymbolTable.GetName(f) == name) ?? funcs.FirstOrDefault();
    }
}
