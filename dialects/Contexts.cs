using Tessera.IR;

namespace Tessera.Dialects;

public static class Contexts
{
    /// <summary>A context with every dialect Tessera ships registered.</summary>
    public static Context CreateDefault(bool allowUnregistered = false)
    {
        var ctx = new Context { AllowUnregistered = allowUnregistered };
        ctx.Register(new BuiltinDialect());
        ctx.Register(new FuncDialect());
        ctx.Register(new ArithDialect());
        ctx.Register(new CfDialect());
        ctx.Register(new GraphDialect());
        ctx.Register(new Tile.TileDialect());
        ctx.Register(new Npu.NpuDialect());
        return ctx;
    }
}
