using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

/// <summary>
/// Flash attention (online softmax) for f16/bf16: dst[s, h, :] = softmax(scale · q[h, s, :] · k[g(h)]ᵀ + mask) · v[g(h)],
/// g(h) = h / (Hq / Hkv). Fully unrolled over (row block, key block) steps; docs/npu/attention.md describes it.
/// <para>S = Q·Kᵀ on the matrix unit with the K block stationary: a transposing descriptor lays each array-wide block of keys
/// out as a D × cols tile, and Q's rows stream, so S lands row-major (query row × key) in the accumulator and is drained in
/// f32. The softmax runs on the vector unit in f32; P is narrowed in place to the element type and multiplied by the V block
/// (stationary, re-blocked into array-wide column blocks) with P's rows streaming. O stays in SRAM in f32.</para>
/// <para>The queues are software-pipelined one step apart: matrix S(0), S(1), PV(0), S(2), PV(1), …; vector sm(0), sm(1),
/// upd(0), sm(2), upd(1), …, so the softmax of one step overlaps the matmuls of its neighbours, across row blocks too.</para>
/// </summary>
public static partial class AttentionKernel
{
    // 1/2: a K/V block is loaded; 3/4: a K/V buffer is free; 5: a Q buffer is free; 6: S drained; 7: P ready;
    // 8: P·V drained; 9: a P·V buffer is free; 10: an output tile is ready; 11: an output buffer is free;
    // 12: a runtime-mask tile buffer is free.
    private const int SemK = 1, SemV = 2, SemKFree = 3, SemVFree = 4, SemQFree = 5, SemS = 6, SemP = 7, SemPv = 8, SemPvFree = 9,
        SemOut = 10, SemOutFree = 11, SemMaskFree = 12, SemCount = 12;

    /// <summary>The tiles the kernel uses for <paramref name="s"/> on <paramref name="t"/>: the cheapest by the pipelined estimate
    /// among those that fit SRAM (every double buffer), the accumulator (S and P·V blocks together) and the ISA's field widths;
    /// among estimates within 0.5%, the least DRAM traffic. Throws TSR0841 if the shape is invalid or nothing fits.</summary>
    public static AttentionTiles Tiles(NpuTarget t, AttentionShape s, int elem = 2)
    {
        Validate(t, s);
        var rowOptions = new List<(int Nh, int Ns)>();
        for (int ns = 16; ns < s.S; ns *= 2)
        {
            rowOptions.Add((1, ns));
        }

        for (int nh = 1; nh <= s.Group; nh++)
        {
            rowOptions.Add((nh, s.S));
        }

        var bcOptions = new List<int>();
        for (int bc = t.MatrixCols; bc < s.T; bc *= 2)
        {
            bcOptions.Add(bc);
        }

        bcOptions.Add(s.T);
        AttentionTiles? best = null;
        long bestBytes = 0;
        string? why = null;
        foreach (var (nh, ns) in rowOptions)
        {
            foreach (int bc in bcOptions)
            {
                int br = nh * ns;
                if (s.Mask is { } mk && MaskRows(mk, nh, ns) is var mr && mr != 1 && mr != br)
                {
                    why ??= "a mask tile must hold every row of the block or one row for all";
                    continue;
                }

                if (AttentionPlan.Misfit(t, s, br, bc, elem) is { } m)
                {
                    why ??= m;
                    continue;
                }

                var tl = new AttentionTiles(br, bc, nh, ns, 0);
                tl = tl with { EstimatedCycles = AttentionPlan.Estimate(t, s, tl, elem) };
                long bytes = AttentionPlan.DramBytes(s, tl, elem);
                if (best is null || tl.EstimatedCycles < best.EstimatedCycles * (1 - 0.005)
                    || (tl.EstimatedCycles <= best.EstimatedCycles * (1 + 0.005) && bytes < bestBytes))
                {
                    (best, bestBytes) = (tl, bytes);
                }
            }
        }

        return best ?? throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name,
            $"attention with head dim D={s.D}, T={s.T} does not fit target {t.Name}: even the smallest blocks ({why})");
    }

    /// <summary>Rows of a block's mask tile: one per head only if the mask has heads, one per position only if it has rows.
    /// The block's scores add it whole (as many rows as the block) or as one row broadcast to all.</summary>
    public static int MaskRows(AttentionMask mk, int nh, int ns) => (mk.Heads > 1 ? nh : 1) * (mk.Rows > 1 ? ns : 1);

    private static void Validate(NpuTarget t, AttentionShape s)
    {
        string? bad = s switch
        {
            _ when s.Hq < 1 || s.Hkv < 1 || s.S < 1 || s.T < 1 || s.D < 1 => "every dimension must be at least 1",
            _ when s.Hq % s.Hkv != 0 => $"Hq={s.Hq} is not a multiple of Hkv={s.Hkv}",
            _ when s.QOffset < 0 => $"qOffset={s.QOffset} is negative",
            _ when !(s.EffectiveScale > 0) || float.IsInfinity(s.EffectiveScale) => $"scale {s.EffectiveScale} must be positive and finite (the row max is taken before scaling)",
            _ when s.Mask is { } m && m.Type is not ("bool" or "f16" or "bf16") => $"a {m.Type} mask (bool, f16 or bf16 only)",
            _ when s.Mask is { } m && ((m.Heads != 1 && m.Heads != s.Hq) || (m.Rows != 1 && m.Rows != s.S)) =>
                $"mask [{s.Mask.Heads}, {s.Mask.Rows}, T] does not broadcast to [Hq={s.Hq}, S={s.S}, T]",
            _ when t.Semaphores < SemCount => $"the kernel needs {SemCount} semaphores; target {t.Name} has {t.Semaphores}",
            _ => null,
        };
        if (bad is not null)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, "attention: " + bad);
        }
    }

    /// <summary>Emits the kernel's instructions (not its entry or <c>end</c>) into <paramref name="pb"/>. q [Hq,S,D], k and v
    /// [Hkv,T,D], dst [S,Hq,D], all dense row-major <paramref name="type"/> (f16 or bf16) at the given DRAM addresses. Uses
    /// the constant pool (<see cref="ProgramBuilder.ConstF32"/>), so <see cref="ProgramBuilder.ConstantBase"/> must be set.
    /// With <see cref="AttentionShape.Mask"/>, <paramref name="mask"/> is the DRAM address of the mask tensor.</summary>
    public static void EmitInto(ProgramBuilder pb, AttentionShape s, long q, long k, long v, long dst, string type, AttentionTiles? tiles = null, long mask = -1)
    {
        const int e = 2;
        var t = pb.Target;
        if (type is not ("f16" or "bf16"))
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"attention supports f16 and bf16, not {type}");
        }

        var tl = tiles ?? Tiles(t, s, e);
        Validate(t, s);
        var why = AttentionPlan.Misfit(t, s, tl.Br, tl.Bc, e)
            ?? (tl.Br != tl.HeadsPerBlock * tl.RowsPerHead || (tl.HeadsPerBlock > 1 && tl.RowsPerHead < s.S) || tl.Bc < 1
                ? "Br must be HeadsPerBlock x RowsPerHead, and heads stack only with all S positions" : null);
        if (why is not null)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, $"attention tiles Br={tl.Br} Bc={tl.Bc} do not fit target {t.Name}: {why}");
        }

        if (s.Mask is not null && mask < 0)
        {
            throw NpuCodes.Error(NpuCodes.LowerUnsupported, t.Name, "attention: the shape has a runtime mask but no mask address was given");
        }

        new Emitter(pb, s, tl, q, k, v, dst, type, mask).Run();
    }
}
