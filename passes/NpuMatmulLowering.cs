using Tessera.Dialects.Graph;
using Tessera.Npu;
using Tessera.Npu.Bundle;
using Tessera.Npu.Isa;
using Tessera.Npu.Lowering;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;

namespace Tessera.Passes;

/// <summary>The attributes <c>npu-tile</c> records on a matmul, reading them back, and f16/bf16 encoding for tests.
/// The lowering itself is <see cref="Npu.NpuModelLowering"/>.</summary>
public static class NpuMatmulLowering
{
    public const string TargetAttr = "npu.target";
    public const string TileMAttr = "npu.tile_m";
    public const string TileNAttr = "npu.tile_n";
    public const string TileKAttr = "npu.tile_k";
    public const string EstimateAttr = "npu.est_cycles";
    public const string StationaryAttr = "npu.stationary";

    /// <summary>Set to <see cref="Gemv"/> when the cost model picks the GEMV kernel (M = 1) over the tiled matmul.</summary>
    public const string KernelAttr = "npu.kernel";
    public const string Gemv = "gemv";

    /// <summary>True when <c>npu-tile</c> chose the GEMV kernel (targets/Npu/Lowering/GemvKernel.cs) for <paramref name="mm"/>.</summary>
    public static bool IsGemv(Operation mm) => (mm.GetAttr(KernelAttr) as StringAttr)?.Value == Gemv;

    /// <summary>The tiles <c>npu-tile</c> recorded on <paramref name="mm"/> (null if it has not run).</summary>
    public static MatmulTiles? Tiles(Operation mm) =>
        mm.GetAttr(TileMAttr) is IntegerAttr m && mm.GetAttr(TileNAttr) is IntegerAttr n && mm.GetAttr(TileKAttr) is IntegerAttr k
            ? new MatmulTiles((int)m.Value, (int)n.Value, (int)k.Value, (mm.GetAttr(EstimateAttr) as IntegerAttr)?.Value ?? 0,
                (mm.GetAttr(StationaryAttr) as StringAttr)?.Value == "a")
            : null;

    /// <summary>Little-endian f16 or bf16 bits of an array (its values are already of that type, so the rounding is exact).</summary>
    public static byte[] Bits(NDArray x, string type)
    {
        var d = x.AsDoubles();
        var bytes = new byte[d.Length * 2];
        for (int i = 0; i < d.Length; i++)
        {
            ushort h = type == "f16" ? Numerics.F32ToF16((float)d[i]) : Numerics.F32ToBf16((float)d[i]);
            bytes[2 * i] = (byte)h;
            bytes[(2 * i) + 1] = (byte)(h >> 8);
        }

        return bytes;
    }
}
