using System.Globalization;
using System.Text;
using Tessera.Npu.Isa;
using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>
/// Collects the assembly text of one NPU program made of several kernels. Each kernel starts at its own entry point
/// (<see cref="Entry"/>) and ends with <c>end</c>; a runner starts every kernel with registers zero and no semaphore
/// tokens, with DRAM as the previous kernels left it, and the kernel must be done (every queue idle) when it ends.
/// Descriptors are shared by all kernels and deduplicated, so two kernels that move the same shape reuse one.
/// </summary>
public sealed class ProgramBuilder(NpuTarget target)
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;
    private readonly StringBuilder _descs = new();
    private readonly StringBuilder _body = new();
    private readonly Dictionary<string, int> _descIds = new(StringComparer.Ordinal);
    private readonly List<TensorDecl> _tensors = [];
    private readonly HashSet<string> _entries = new(StringComparer.Ordinal);
    private readonly List<SramBuffer> _buffers = [];
    private readonly List<int> _live = [];
    private string? _entry;
    private int _pc;

    private readonly List<byte> _pool = [];
    private readonly Dictionary<string, long> _poolIndex = new(StringComparer.Ordinal);

    public NpuTarget Target { get; } = target;

    /// <summary>DRAM address of the constant pool (<see cref="ConstF32"/>); whoever lays out DRAM sets it before kernels
    /// that use constants are emitted, and puts <see cref="ConstantPool"/> there.</summary>
    public long ConstantBase { get; set; }

    /// <summary>The constant pool's bytes (fp32 values, little-endian, each run 64-byte aligned).</summary>
    public byte[] ConstantPool => [.. _pool];
    public IReadOnlyList<TensorDecl> Tensors => _tensors;

    /// <summary>Every SRAM buffer the kernels allocated, in allocation order, with its live range.</summary>
    public IReadOnlyList<SramBuffer> Buffers => _buffers;

    /// <summary>Starts a kernel: the next line emitted is its first instruction.</summary>
    public void Entry(string name)
    {
        if (!_entries.Add(name))
        {
            throw new InvalidOperationException($"entry '{name}' emitted twice");
        }

        CloseBuffers();
        _entry = name;
        _pc = 0;
        _body.Append(Ci, $".entry {name}\n");
    }

    public void Line(string instruction)
    {
        _body.Append(instruction).Append('\n');
        var head = instruction.AsSpan().TrimStart();
        if (!head.IsEmpty && head[0] is not (';' or '#'))
        {
            _pc++;
        }
    }

    /// <summary>
    /// Allocates <paramref name="bytes"/> of SRAM for the current kernel, live from the next instruction until
    /// <see cref="Free"/> or the kernel's end: the lowest 64-byte aligned offset that overlaps no live buffer (first fit),
    /// so space freed earlier in the kernel is reused. Kernels share nothing in SRAM (DRAM carries values between
    /// steps), so every buffer dies with its kernel. Throws TSR0841 when no gap is large enough.
    /// </summary>
    public long Alloc(string name, long bytes)
    {
        if (_entry is null)
        {
            throw new InvalidOperationException("SRAM is allocated inside a kernel: call Entry first");
        }

        long size = TileCostModel.Align(Math.Max(bytes, 1)), at = 0;
        foreach (var b in _live.Select(i => _buffers[i]).OrderBy(b => b.Offset))
        {
            if (at + size <= b.Offset)
            {
                break;
            }

            at = Math.Max(at, TileCostModel.Align(b.Offset + b.Bytes));
        }

        if (at + size > Target.SramBytes)
        {
            long live = _live.Sum(i => _buffers[i].Bytes);
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, Target.Name,
                $"{_entry}: SRAM buffer '{name}' of {bytes} bytes does not fit: {live} of {Target.SramBytes} bytes are live");
        }

        _live.Add(_buffers.Count);
        _buffers.Add(new SramBuffer(_entry, name, at, Math.Max(bytes, 1), _pc, -1));
        return at;
    }

    /// <summary>Ends the live range of the buffer at <paramref name="offset"/> with the last instruction emitted.</summary>
    public void Free(long offset)
    {
        int k = _live.FindIndex(i => _buffers[i].Offset == offset);
        if (k < 0)
        {
            throw new InvalidOperationException($"no live SRAM buffer at 0x{offset:x}");
        }

        _buffers[_live[k]] = _buffers[_live[k]] with { Last = _pc - 1 };
        _live.RemoveAt(k);
    }

    private void CloseBuffers()
    {
        foreach (var i in _live)
        {
            _buffers[i] = _buffers[i] with { Last = _pc - 1 };
        }

        _live.Clear();
    }

    public void Comment(string text) => _body.Append("; ").Append(text.Replace('\n', ' ')).Append('\n');

    public void Tensor(TensorDecl t) => _tensors.Add(t);

    /// <summary>The id of a descriptor (dims and strides outer to inner, strides in bytes), added on first use.</summary>
    /// <param name="pad">Elements added before and after dims 1 and 2 on a load (before₁, after₁, before₂, after₂), holding
    /// the low <paramref name="elem"/> bytes of <paramref name="padValue"/> (for dma.gather: the table's row count).</param>
    public int Desc(int elem, int d0, int d1, int d2, long ds0, long ds1, long ds2, long ss0, long ss1, long ss2, bool transpose = false,
        int[]? pad = null, int padValue = 0)
    {
        var padding = (pad is null || pad.All(p => p == 0) ? "" : string.Create(Ci, $" pad={string.Join(',', pad)}"))
            + (padValue != 0 ? string.Create(Ci, $" pad_value={padValue}") : "");
        var key = string.Create(Ci, $"dims={d0},{d1},{d2} dram_strides={ds0},{ds1},{ds2} sram_strides={ss0},{ss1},{ss2} elem={elem}{(transpose ? " transpose" : "")}{padding}");
        if (!_descIds.TryGetValue(key, out int id))
        {
            id = _descIds.Count;
            if (id >= Target.DmaDescriptors)
            {
                throw NpuCodes.Error(NpuCodes.LowerUnsupported, Target.Name, $"the program needs more than the target's {Target.DmaDescriptors} DMA descriptors");
            }

            _descIds[key] = id;
            _descs.Append(Ci, $".desc {id} {key}\n");
        }

        return id;
    }

    /// <summary>A contiguous copy of <paramref name="rows"/> rows of <paramref name="cols"/> elements between DRAM rows
    /// <paramref name="dramRowStride"/> bytes apart and SRAM rows <paramref name="sramRowStride"/> bytes apart.</summary>
    public int Rows(int elem, int rows, int cols, long dramRowStride, long sramRowStride) =>
        Desc(elem, 1, rows, cols, 0, dramRowStride, elem, 0, sramRowStride, elem);

    /// <summary>The DRAM address of fp32 <paramref name="values"/> in the constant pool (equal runs are stored once).</summary>
    public long ConstF32(params float[] values)
    {
        var key = string.Join(',', values.Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8", Ci)));
        if (!_poolIndex.TryGetValue(key, out long off))
        {
            while (_pool.Count % 64 != 0)
            {
                _pool.Add(0);
            }

            off = _pool.Count;
            foreach (var v in values)
            {
                _pool.AddRange(BitConverter.GetBytes(v));
            }

            _poolIndex[key] = off;
        }

        return ConstantBase + off;
    }

    /// <summary>" wait=W signal=S" for the non-zero ones.</summary>
    public static string Sync(int wait, int signal) =>
        (wait > 0 ? string.Create(Ci, $" wait={wait}") : "") + (signal > 0 ? string.Create(Ci, $" signal={signal}") : "");

    /// <summary>The whole program as assembly text.</summary>
    public string Text()
    {
        CloseBuffers();
        var sb = new StringBuilder();
        sb.Append(Ci, $".target {Target.Name}\n");
        sb.Append(_descs);
        foreach (var t in _tensors)
        {
            sb.Append(Ci, $".tensor {t.Name} {t.Role} dram=0x{t.DramAddress:x} shape={string.Join(',', t.Shape)} type={t.Type}\n");
        }

        sb.Append(_body);
        return sb.ToString();
    }

    public AsmProgram Assemble(string name = "<npu-program>") => Assembler.Assemble(Text(), name);
}

/// <summary>An SRAM buffer of kernel <paramref name="Entry"/>: live from its instruction <paramref name="First"/> to
/// <paramref name="Last"/> (indices of the kernel's instructions, inclusive).</summary>
public sealed record SramBuffer(string Entry, string Name, long Offset, long Bytes, int First, int Last);
