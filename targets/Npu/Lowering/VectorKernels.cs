using Tessera.IR;
using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>How the second operand of <see cref="VectorKernels.Binary"/> covers the rows × cols of the first.</summary>
public enum Broadcast
{
    /// <summary>b is rows × cols, like a.</summary>
    Full,
    /// <summary>b is one row of cols elements, used for every row (a bias, a norm weight).</summary>
    Row,
    /// <summary>b has one element per row.</summary>
    Column,
    /// <summary>b is one element.</summary>
    Scalar,
}

/// <summary>
/// Vector-unit kernels over f16/bf16 tensors in DRAM, dense row-major and viewed as rows × cols. Each method emits the body
/// of one kernel into a <see cref="ProgramBuilder"/> (the caller emits the entry before and <c>end</c> after); kernels that
/// use constants need <see cref="ProgramBuilder.ConstantBase"/> set first. Work is in fp32: inputs are converted on
/// load and the result converted back once. See docs/npu/kernels.md.
/// </summary>
public static partial class VectorKernels
{
    private static readonly string[] BinaryOps = ["add", "sub", "mul", "max", "min"];
    private static readonly string[] UnaryOps = ["silu", "gelu", "exp", "neg", "copy", "sigmoid", "tanh", "relu"];

    /// <summary>The rows per block that <see cref="Unary"/> (<paramref name="inputs"/> = 1) and <see cref="Binary"/> with
    /// <see cref="Broadcast.Full"/> (<paramref name="inputs"/> = 2) use for a rows × cols tensor on target <paramref name="t"/>.</summary>
    public static int BlockRows(NpuTarget t, int rows, int cols, int inputs = 1)
    {
        var s = new Spec { Title = "elementwise", Type = "f16", Rows = rows, Dst = 0, OutElems = cols, Compute = _ => 0 };
        for (int i = 0; i < inputs; i++)
        {
            s.Inputs.Add(Dense(null!, 0, cols));
        }

        return Plan(t, s).Rows;
    }

    private static Input Dense(ProgramBuilder pb, long dram, int cols) =>
        new(cols, (r0, n, sram) => Flat(pb, 2, (long)n * cols, cols, sram, dram + (2L * r0 * cols)));

    private static DiagnosticException Unsupported(ProgramBuilder pb, string message) =>
        NpuCodes.Error(NpuCodes.LowerUnsupported, pb.Target.Name, message);

    /// <summary>dst = a op b, op one of add sub mul max min; b as <paramref name="bKind"/> says.</summary>
    public static void Binary(ProgramBuilder pb, string op, int rows, int cols, long a, long b, Broadcast bKind, long dst, string type)
    {
        string title = $"{op} {rows}x{cols} ({bKind} b)";
        Check(pb.Target, title, type, ("rows", rows), ("cols", cols));
        if (!BinaryOps.Contains(op))
        {
            throw Unsupported(pb, $"{title}: no binary vector kernel '{op}' (have {string.Join(", ", BinaryOps)})");
        }

        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = cols,
            Compute = k =>
            {
                long x = k.In(0), n = (long)k.R * cols;
                switch (bKind)
                {
                    case Broadcast.Full: k.E.Bin(op, x, x, k.In(1), n); break;
                    case Broadcast.Scalar: k.E.Bin(op, x, x, k.Vector(0), n, bcast: true); break;
                    case Broadcast.Row: k.E.Rows(k.R, 4L * cols, () => k.E.Bin(op, R1(x), R1(x), k.Vector(0), cols)); break;
                    default: k.E.Rows(k.R, 4L * cols, () => k.E.Bin(op, R1(x), R1(x), R2(k.In(1)), cols, bcast: true)); break;
                }

                return x;
            },
        };
        s.Inputs.Add(Dense(pb, a, cols));
        switch (bKind)
        {
            case Broadcast.Full: s.Inputs.Add(Dense(pb, b, cols)); break;
            case Broadcast.Column: s.Inputs.Add(Dense(pb, b, 1)); break;
            case Broadcast.Row: s.Vectors.Add((b, cols)); break;
            default: s.Vectors.Add((b, 1)); break;
        }

        Run(pb, s);
    }

    /// <summary>dst = op(a), op one of silu gelu exp neg copy sigmoid tanh relu (neg, sigmoid, tanh and relu use pool constants).</summary>
    public static void Unary(ProgramBuilder pb, string op, int rows, int cols, long a, long dst, string type)
    {
        string title = $"{op} {rows}x{cols}";
        Check(pb.Target, title, type, ("rows", rows), ("cols", cols));
        if (!UnaryOps.Contains(op))
        {
            throw Unsupported(pb, $"{title}: no unary vector kernel '{op}' (have {string.Join(", ", UnaryOps)})");
        }

        float[] consts = op switch
        {
            "neg" => [-1f],
            "relu" => [0f],
            "sigmoid" => [-1f, 1f],
            "tanh" => [2f, 1f, -2f],
            _ => [],
        };
        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = cols, Consts = consts,
            Compute = k =>
            {
                var e = k.E;
                long x = k.In(0), n = (long)k.R * cols;
                switch (op)
                {
                    case "silu" or "gelu" or "exp": e.Un(op, x, x, n); break;
                    case "neg": e.Bin("mul", x, x, k.Const(0), n, bcast: true); break;
                    case "relu": e.Bin("max", x, x, k.Const(0), n, bcast: true); break;
                    case "sigmoid":
                        // 1 / (1 + exp(-x))
                        e.Bin("mul", x, x, k.Const(0), n, bcast: true);
                        e.Un("exp", x, x, n);
                        e.Bin("add", x, x, k.Const(1), n, bcast: true);
                        e.Un("recip", x, x, n);
                        break;
                    case "tanh":
                        // 1 - 2 / (exp(2x) + 1): saturates to ±1 without inf/inf.
                        e.Bin("mul", x, x, k.Const(0), n, bcast: true);
                        e.Un("exp", x, x, n);
                        e.Bin("add", x, x, k.Const(1), n, bcast: true);
                        e.Un("recip", x, x, n);
                        e.Bin("mul", x, x, k.Const(2), n, bcast: true);
                        e.Bin("add", x, x, k.Const(1), n, bcast: true);
                        break;
                }

                return x;   // copy: the f16/bf16 → fp32 → f16/bf16 round trip is exact
            },
        };
        s.Inputs.Add(Dense(pb, a, cols));
        Run(pb, s);
    }

    /// <summary>dst = silu(a) · b, all rows × cols (the SwiGLU gate).</summary>
    public static void MulSilu(ProgramBuilder pb, int rows, int cols, long a, long b, long dst, string type)
    {
        string title = $"silu-mul {rows}x{cols}";
        Check(pb.Target, title, type, ("rows", rows), ("cols", cols));
        var s = new Spec
        {
            Title = title, Type = type, Rows = rows, Dst = dst, OutElems = cols,
            Compute = k =>
            {
                long x = k.In(0), n = (long)k.R * cols;
                k.E.Un("silu", x, x, n);
                k.E.Bin("mul", x, x, k.In(1), n);
                return x;
            },
        };
        s.Inputs.Add(Dense(pb, a, cols));
        s.Inputs.Add(Dense(pb, b, cols));
        Run(pb, s);
    }
}
