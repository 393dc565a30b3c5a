namespace Tessera.Npu.Isa;

/// <summary>
/// The SRAM bytes an instruction touches, as bounding ranges per operand (docs/npu/isa.md gives each instruction's
/// access pattern). The compiler's verifier checks every range lies inside an SRAM buffer that is live at the instruction.
/// </summary>
public static class Footprint
{
    private static readonly int[] ElemBytes = [1, 4, 4, 2, 2];    // v.cvt's codes: i8 i32 f32 f16 bf16
    private static readonly int[] DrainBytes = [4, 1, 4, 2, 2];   // mm.drain's modes: i32 i8 f32 f16 bf16

    /// <summary>(field, start, length) of each SRAM range; <paramref name="addr"/> gives a field's effective address.</summary>
    public static IEnumerable<(string Field, long Start, long Length)> Sram(Instr ins, Func<string, long> addr, IReadOnlyList<DmaDescriptor> descs)
    {
        long Count(string f) => ins[f];
        switch (ins.Op.Mnemonic)
        {
            case "dma.load" or "dma.store":
                long id = ins["desc"];
                if (id < descs.Count)
                {
                    yield return Dma("sram", addr("sram"), descs[(int)id], ins.Op.Mnemonic == "dma.load");
                }

                break;
            case "dma.gather":
                long g = ins["desc"];
                if (g < descs.Count)
                {
                    var d = descs[(int)g];
                    yield return Dma("sram", addr("sram"), d, load: true);
                    yield return ("idx", addr("idx"), 8L * d.Dims[1]);
                }

                break;
            case "mm.ldw":
                yield return ("src", addr("src"), Count("k") * Count("n") * MatrixElem(ins["type"]));
                break;
            case "mm.mac":
                {
                    long e = MatrixElem(ins["type"]), row = Count("k") * e, stride = ins["stride"] != 0 ? ins["stride"] : row;
                    yield return ("src", addr("src"), ((Count("m") - 1) * stride) + row);
                    break;
                }

            case "mm.drain":
                {
                    long e = DrainBytes[ins["mode"]];
                    long row = Count("n") * e, stride = ins["stride"] != 0 ? ins["stride"] : row;
                    yield return ("dst", addr("dst"), ((Count("m") - 1) * stride) + row);
                    break;
                }

            case "v.add" or "v.sub" or "v.mul" or "v.max" or "v.min":
                yield return ("dst", addr("dst"), 4 * Count("n"));
                yield return ("a", addr("a"), 4 * Count("n"));
                yield return ("b", addr("b"), ins["bcast"] != 0 ? 4 : 4 * Count("n"));
                break;
            case "v.rsum" or "v.rmax":
                yield return ("dst", addr("dst"), 4);
                yield return ("a", addr("a"), 4 * Count("n"));
                break;
            case "v.cvt":
                yield return ("dst", addr("dst"), ElemBytes[ins["to"]] * Count("n"));
                yield return ("a", addr("a"), ElemBytes[ins["from"]] * Count("n"));
                break;
            case "v.requant":
                yield return ("dst", addr("dst"), Count("n"));
                yield return ("a", addr("a"), (ins["from"] == 0 ? 4 : 1) * Count("n"));
                break;
            case var m when m.StartsWith("v.", StringComparison.Ordinal) && ins.Op.FieldIndex("n") >= 0:
                yield return ("dst", addr("dst"), 4 * Count("n"));
                yield return ("a", addr("a"), 4 * Count("n"));
                break;
        }
    }

    private static long MatrixElem(long type) => type == 0 ? 1 : 2;

    private static (string, long, long) Dma(string field, long sram, DmaDescriptor d, bool load)
    {
        long n1 = load ? d.Pad[0] + d.Dims[1] + d.Pad[1] : d.Dims[1], n2 = load ? d.Pad[2] + d.Dims[2] + d.Pad[3] : d.Dims[2];
        // With transpose, the load writes element (a, b, c) at a·ss0 + c·ss1 + b·ss2.
        (long s1, long s2) = load && d.Transpose ? (d.SramStrides[2], d.SramStrides[1]) : (d.SramStrides[1], d.SramStrides[2]);
        long lo = 0, hi = 0;
        foreach (var (count, stride) in new[] { ((long)d.Dims[0], (long)d.SramStrides[0]), (n1, s1), (n2, s2) })
        {
            long span = (count - 1) * stride;
            (lo, hi) = span < 0 ? (lo + span, hi) : (lo, hi + span);
        }

        return (field, sram + lo, hi - lo + d.ElemBytes);
    }
}
