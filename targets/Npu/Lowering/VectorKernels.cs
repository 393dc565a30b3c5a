using Tessera.IR;
using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>
/// Vector-unit kernels over f16/bf16 tensors in DRAM, dense row-major and viewed as rows × cols. Each method emits the body
/// of one kernel into a <see cref="ProgramBuilder"/> (the caller emits the entry before and <c>end</c> after). Work is
/// in fp32: inputs are converted on load and the result converted back once. See docs/npu/kernels.md.
/// </summary>
public static partial class VectorKernels
{
    private static DiagnosticException Unsupported(ProgramBuilder pb, string message) =>
        NpuCodes.Error(NpuCodes.LowerUnsupported, pb.Target.Name, message);
}
