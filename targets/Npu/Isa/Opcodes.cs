namespace Tessera.Npu.Isa;

/// <summary>The instruction set, as one table. docs/npu/isa.md prints the same table (<see cref="EncodingTable"/>).</summary>
public static class Opcodes
{
    public const int SramAddrBits = 25;
    public const int DramAddrBits = 32;
    public const int AccAddrBits = 12;

    public static readonly string[] MatrixTypes = ["i8", "f16", "bf16"];
    public static readonly string[] DrainModes = ["i32", "i8", "f32", "f16", "bf16"];
    public static readonly string[] VectorTypes = ["f32", "i32"];
    public static readonly string[] ElementTypes = ["i8", "i32", "f32", "f16", "bf16"];
    public static readonly string[] RequantSources = ["i32", "i8"];

    private static (string, FieldKind, int, string[]?) U(string n, int w) => (n, FieldKind.Unsigned, w, null);
    private static (string, FieldKind, int, string[]?) S(string n, int w) => (n, FieldKind.Signed, w, null);
    private static (string, FieldKind, int, string[]?) R(string n) => (n, FieldKind.Register, 4, null);
    private static (string, FieldKind, int, string[]?) Sram(string n) => (n, FieldKind.Address, SramAddrBits, null);
    private static (string, FieldKind, int, string[]?) Dram(string n) => (n, FieldKind.Address, DramAddrBits, null);
    private static (string, FieldKind, int, string[]?) Acc(string n) => (n, FieldKind.Address, AccAddrBits, null);
    private static (string, FieldKind, int, string[]?) E(string n, string[] names) => (n, FieldKind.Enum, names.Length <= 2 ? 1 : names.Length <= 4 ? 2 : 3, names);

    private static OpDef Binary(string m, byte code, string what) =>
        new(m, code, Queue.Vector, what, Sram("dst"), Sram("a"), Sram("b"), U("n", 16), U("bcast", 1), E("type", VectorTypes));

    private static OpDef Unary(string m, byte code, string what) => new(m, code, Queue.Vector, what, Sram("dst"), Sram("a"), U("n", 16));

    public static readonly IReadOnlyList<OpDef> All =
    [
        new("end", 0x01, Queue.Front, "stop dispatching; the run ends when every queue is idle"),
        new("set", 0x02, Queue.Front, "rd = imm", R("rd"), U("imm", 32)),
        new("addi", 0x03, Queue.Front, "rd = rs + imm (mod 2^32)", R("rd"), R("rs"), S("imm", 32)),
        new("loop", 0x04, Queue.Front, "run the instructions up to the matching endloop count times", U("count", 24)),
        new("endloop", 0x05, Queue.Front, "close the innermost loop"),
        new("sem.post", 0x06, Queue.Front, "add count tokens to a semaphore at dispatch (initialisation)", U("sem", 5), U("count", 8)),
        new("dma.load", 0x10, Queue.Load, "DRAM -> SRAM through descriptor desc", U("desc", 12), Sram("sram"), Dram("dram")),
        new("dma.store", 0x11, Queue.Store, "SRAM -> DRAM through descriptor desc", U("desc", 12), Sram("sram"), Dram("dram")),
        new("dma.gather", 0x12, Queue.Load, "DRAM table rows picked by int64 indices in SRAM -> SRAM through descriptor desc", U("desc", 12), Sram("sram"), Dram("dram"), Sram("idx")),
        new("mm.ldw", 0x20, Queue.Matrix, "load a k x n weight tile (row-major) into the array", Sram("src"), U("k", 9), U("n", 9), E("type", MatrixTypes)),
        new("mm.mac", 0x21, Queue.Matrix, "stream m rows of k inputs through the array into accumulator rows", Sram("src"), Acc("acc"), U("m", 12), U("k", 9), U("stride", 16), U("accumulate", 1), E("type", MatrixTypes)),
        new("mm.drain", 0x22, Queue.Matrix, "accumulator rows -> SRAM, raw, requantized or converted", Acc("acc"), Sram("dst"), U("m", 12), U("n", 9), U("stride", 16), E("mode", DrainModes)),
        new("mm.qcfg", 0x23, Queue.Matrix, "set the matrix queue's requantize parameters", S("mult", 32), U("shift", 6), S("zp_in", 8), S("zp_out", 8)),
        Binary("v.add", 0x30, "dst = a + b"),
        Binary("v.sub", 0x31, "dst = a - b"),
        Binary("v.mul", 0x32, "dst = a * b"),
        Binary("v.max", 0x33, "dst = max(a, b)"),
        Binary("v.min", 0x34, "dst = min(a, b)"),
        Unary("v.exp", 0x38, "dst = exp(a), fp32"),
        Unary("v.rsqrt", 0x39, "dst = 1 / sqrt(a), fp32"),
        Unary("v.recip", 0x3A, "dst = 1 / a, fp32"),
        Unary("v.silu", 0x3B, "dst = a / (1 + exp(-a)), fp32"),
        Unary("v.gelu", 0x3C, "dst = gelu_tanh(a), fp32"),
        Unary("v.copy", 0x3D, "dst = a, 32-bit elements"),
        Unary("v.rsum", 0x40, "dst[0] = sum(a[0..n)), fp32, lane-striped order"),
        Unary("v.rmax", 0x41, "dst[0] = max(a[0..n)), fp32"),
        new("v.cvt", 0x44, Queue.Vector, "convert n elements between types", Sram("dst"), Sram("a"), U("n", 16), E("from", ElementTypes), E("to", ElementTypes)),
        new("v.requant", 0x45, Queue.Vector, "requantize n i32 or i8 elements to i8 with the vector queue's parameters", Sram("dst"), Sram("a"), U("n", 16), E("from", RequantSources)),
        new("v.qcfg", 0x46, Queue.Vector, "set the vector queue's requantize parameters", S("mult", 32), U("shift", 6), S("zp_in", 8), S("zp_out", 8)),
    ];

    private static readonly Dictionary<string, OpDef> ByName = All.ToDictionary(o => o.Mnemonic);
    private static readonly OpDef?[] ByCode = Build();

    private static OpDef?[] Build()
    {
        var t = new OpDef?[256];
        foreach (var o in All)
        {
            t[o.Opcode] = o;
        }

        return t;
    }

    public static OpDef? Find(string mnemonic) => ByName.GetValueOrDefault(mnemonic);
    public static OpDef? Find(byte opcode) => ByCode[opcode];

    /// <summary>The markdown encoding table docs/npu/isa.md carries (a test keeps the two equal).</summary>
    public static string EncodingTable()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("| mnemonic | opcode | queue | fields (bit ranges, lsb first; [0,8) opcode, [8,13) wait, [13,18) signal) |\n|---|---|---|---|\n");
        foreach (var o in All)
        {
            var fields = o.Fields.Select(f => f.Kind == FieldKind.Address
                ? $"`{f.Name}` reg [{f.RegLo},{f.RegLo + 4}) offset [{f.Lo},{f.Lo + f.Width})"
                : $"`{f.Name}` {KindText(f)} [{f.Lo},{f.Lo + f.Width})");
            sb.Append($"| `{o.Mnemonic}` | 0x{o.Opcode:X2} | {o.Queue.ToString().ToLowerInvariant()} | {(o.Fields.Count == 0 ? "none" : string.Join("; ", fields))} |\n");
        }

        return sb.ToString();
    }

    private static string KindText(FieldDef f) => f.Kind switch
    {
        FieldKind.Unsigned => "u" + f.Width,
        FieldKind.Signed => "s" + f.Width,
        FieldKind.Register => "reg",
        FieldKind.Enum => "enum{" + string.Join(",", f.Names!.Select((n, i) => $"{i}={n}")) + "}",
        _ => throw new InvalidOperationException(f.Kind.ToString()),
    };
}
