using System.Globalization;

namespace Tessera.Npu.Isa;

/// <summary>Reads the assembly text of docs/npu/isa.md § Assembly: one instruction or directive per line, <c>key=value</c>
/// operands, <c>;</c> or <c>#</c> comments. Errors are TSR0811–TSR0813 at <c>file:line:col</c>.</summary>
public sealed class Assembler
{
    private readonly string _file;
    private int _line;

    private Assembler(string file) => _file = file;

    public static AsmProgram Assemble(string text, string file = "<asm>") => new Assembler(file).Run(text);

    private DiagnosticException Err(string code, string message, int col = 1) =>
        new(new Diagnostic(Severity.Error, code, message, new FileLineColLoc(_file, _line, col)));

    private AsmProgram Run(string text)
    {
        var p = new AsmProgram();
        int depth = 0;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            _line = i + 1;
            var line = lines[i];
            int cut = line.IndexOfAny([';', '#']);
            var tokens = (cut >= 0 ? line[..cut] : line).Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length == 0)
            {
                continue;
            }

            if (tokens[0].StartsWith('.'))
            {
                Directive(p, tokens);
                continue;
            }

            var op = Opcodes.Find(tokens[0]) ?? throw Err(NpuCodes.AsmUnknown, $"unknown instruction '{tokens[0]}'");
            var ins = Instruction(op, tokens);
            depth += op.Mnemonic == "loop" ? 1 : op.Mnemonic == "endloop" ? -1 : 0;
            if (depth < 0)
            {
                throw Err(NpuCodes.AsmSyntax, "endloop without a loop");
            }

            p.Instrs.Add(ins);
        }

        if (depth != 0)
        {
            throw Err(NpuCodes.AsmSyntax, $"{depth} loop(s) not closed by endloop");
        }

        if (!p.Entries.ContainsKey("main"))
        {
            p.Entries["main"] = 0;
        }

        return p;
    }

    private Instr Instruction(OpDef op, string[] tokens)
    {
        var values = new long[op.Fields.Count];
        var regs = new int[op.Fields.Count];
        var seen = new HashSet<string>();
        int wait = 0, signal = 0;
        foreach (var tok in tokens.Skip(1))
        {
            int eq = tok.IndexOf('=');
            if (eq <= 0)
            {
                throw Err(NpuCodes.AsmSyntax, $"{op.Mnemonic}: expected key=value, got '{tok}'");
            }

            var key = tok[..eq];
            var val = tok[(eq + 1)..];
            if (!seen.Add(key))
            {
                throw Err(NpuCodes.AsmSyntax, $"{op.Mnemonic}: field '{key}' given twice");
            }

            if (key is "wait" or "signal")
            {
                int s = (int)Number(val, 0, 31, key);
                (wait, signal) = key == "wait" ? (s, signal) : (wait, s);
                continue;
            }

            int fi = op.FieldIndex(key);
            if (fi < 0)
            {
                throw Err(NpuCodes.AsmUnknown, $"{op.Mnemonic} has no field '{key}' (fields: {string.Join(", ", op.Fields.Select(f => f.Name).Append("wait").Append("signal"))})");
            }

            var f = op.Fields[fi];
            switch (f.Kind)
            {
                case FieldKind.Register:
                    values[fi] = Register(val, key);
                    break;
                case FieldKind.Address:
                    int plus = val.IndexOf('+');
                    if (val.StartsWith('r') && plus < 0)
                    {
                        regs[fi] = Register(val, key);
                    }
                    else if (plus > 0)
                    {
                        regs[fi] = Register(val[..plus], key);
                        values[fi] = Number(val[(plus + 1)..], 0, f.Max, key);
                    }
                    else
                    {
                        values[fi] = Number(val, 0, f.Max, key);
                    }

                    break;
                case FieldKind.Enum:
                    int e = Array.IndexOf(f.Names!, val);
                    values[fi] = e >= 0 ? e : throw Err(NpuCodes.AsmRange, $"{op.Mnemonic}: {key} must be one of {string.Join(", ", f.Names!)}, not '{val}'");
                    break;
                default:
                    values[fi] = Number(val, f.Min, f.Max, key);
                    break;
            }
        }

        return new Instr(op, values, regs) { Wait = wait, Signal = signal };
    }

    private int Register(string s, string key) =>
        s.Length >= 2 && s[0] == 'r' && int.TryParse(s[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int r) && r < 16
            ? r : throw Err(NpuCodes.AsmRange, $"{key}: '{s}' is not a register r0..r15");

    private long Number(string s, long min, long max, string key)
    {
        bool neg = s.StartsWith('-');
        var body = neg ? s[1..] : s;
        bool ok = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(body[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long v)
            : long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok || body.Length > 18)
        {
            throw Err(NpuCodes.AsmSyntax, $"{key}: '{s}' is not a number");
        }

        v = neg ? -v : v;
        return v >= min && v <= max ? v : throw Err(NpuCodes.AsmRange, $"{key}: {v} is outside [{min}, {max}]");
    }

    private int[] List(string s, int count, string key, long min, long max)
    {
        var parts = s.Split(',');
        return parts.Length == count ? [.. parts.Select(x => (int)Number(x, min, max, key))] : throw Err(NpuCodes.AsmSyntax, $"{key} needs {count} comma-separated numbers");
    }

    private void Directive(AsmProgram p, string[] t)
    {
        switch (t[0])
        {
            case ".target" when t.Length == 2:
                p.Target = t[1];
                break;
            case ".entry" when t.Length == 2:
                p.Entries[t[1]] = p.Instrs.Count;
                break;
            case ".desc" when t.Length >= 2:
                int index = (int)Number(t[1], 0, 4095, "descriptor index");
                if (index != p.Descriptors.Count)
                {
                    throw Err(NpuCodes.AsmSyntax, $".desc {index}: descriptors must be numbered 0, 1, 2, ... in order (expected {p.Descriptors.Count})");
                }

                p.Descriptors.Add(Descriptor(t));
                break;
            case ".tensor" when t.Length >= 3:
                p.Tensors.Add(Tensor(t));
                break;
            default:
                throw Err(NpuCodes.AsmSyntax, $"bad directive '{string.Join(' ', t)}' (.target NAME, .entry NAME, .desc N ..., .tensor NAME ROLE ...)");
        }
    }

    private DmaDescriptor Descriptor(string[] t)
    {
        var d = new DmaDescriptor();
        foreach (var tok in t.Skip(2))
        {
            var (key, val) = tok.IndexOf('=') is > 0 and var eq ? (tok[..eq], tok[(eq + 1)..]) : (tok, "");
            d = key switch
            {
                "dims" => d with { Dims = List(val, 3, key, 1, 65535) },
                "dram_strides" => d with { DramStrides = List(val, 3, key, int.MinValue, int.MaxValue) },
                "sram_strides" => d with { SramStrides = List(val, 3, key, int.MinValue, int.MaxValue) },
                "elem" => d with { ElemBytes = (int)Number(val, 1, 4, key) },
                "pad" => d with { Pad = List(val, 4, key, 0, 65535) },
                "pad_value" => d with { PadValue = (int)Number(val, int.MinValue, int.MaxValue, key) },
                "unpack_int4" when val.Length == 0 => d with { UnpackInt4 = true },
                "transpose" when val.Length == 0 => d with { Transpose = true },
                _ => throw Err(NpuCodes.AsmUnknown, $".desc: unknown field '{tok}'"),
            };
        }

        d.Validate($"{_file}:{_line}");
        return d;
    }

    private TensorDecl Tensor(string[] t)
    {
        if (!TensorDecl.Roles.Contains(t[2]))
        {
            throw Err(NpuCodes.AsmSyntax, $".tensor {t[1]}: role must be one of {string.Join(", ", TensorDecl.Roles)}");
        }

        long addr = -1;
        long[]? shape = null;
        string? type = null;
        foreach (var tok in t.Skip(3))
        {
            var (key, val) = tok.IndexOf('=') is > 0 and var eq ? (tok[..eq], tok[(eq + 1)..]) : (tok, "");
            switch (key)
            {
                case "dram": addr = Number(val, 0, uint.MaxValue, key); break;
                // An empty shape is a rank-0 tensor (one element).
                case "shape": shape = val.Length == 0 ? [] : [.. val.Split(',').Select(x => Number(x, 1, int.MaxValue, key))]; break;
                case "type": type = TensorDecl.Types.Contains(val) ? val : throw Err(NpuCodes.AsmRange, $"type must be one of {string.Join(", ", TensorDecl.Types)}"); break;
                default: throw Err(NpuCodes.AsmUnknown, $".tensor: unknown field '{tok}'");
            }
        }

        return addr >= 0 && shape is not null && type is not null
            ? new TensorDecl(t[1], t[2], addr, shape, type)
            : throw Err(NpuCodes.AsmSyntax, $".tensor {t[1]} needs dram=, shape= and type=");
    }
}
