using System.Globalization;
using Tessera.Npu.Target;

namespace Tessera.Npu.Lowering;

public static partial class AttentionKernel
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>Magnitude of a masked score: far below any real score, yet scale·(−1e30 − m) stays finite for scale up to ~1e8.</summary>
    private const float MaskBig = 1e30f;

    private sealed class Emitter
    {
        private const int E = 2;
        private readonly ProgramBuilder pb;
        private readonly AttentionShape s;
        private readonly AttentionTiles tl;
        private readonly long q, k, v, dst, mask;
        private readonly string type;
        private readonly NpuTarget _t;
        private readonly AttentionLayout _lay;
        private readonly List<RowBlock> _rbs;
        private readonly List<AttnStep> _steps;

        public Emitter(ProgramBuilder pb, AttentionShape s, AttentionTiles tl, long q, long k, long v, long dst, string type, long mask)
        {
            (this.pb, this.s, this.tl, this.q, this.k, this.v, this.dst, this.type, this.mask) = (pb, s, tl, q, k, v, dst, type, mask);
            _t = pb.Target;
            _lay = AttentionLayout.Of(_t, s, tl.Br, tl.Bc, E, pb.Alloc);
            _rbs = AttentionPlan.RowBlocks(s, tl);
            _steps = AttentionPlan.Steps(s, tl, _rbs);
        }

        private void Line(string text) => pb.Line(text);

        private static string H(long v) => "0x" + v.ToString("x", Ci);

        /// <summary>Emits a run of same-queue instructions, the first taking <paramref name="wait"/> and the last giving <paramref name="signal"/>.</summary>
        private void Run(List<string> ops, int wait, int signal)
        {
            for (int i = 0; i < ops.Count; i++)
            {
                Line(ops[i] + ProgramBuilder.Sync(i == 0 ? wait : 0, i == ops.Count - 1 ? signal : 0));
            }
        }

        public void Run()
        {
            pb.Comment($"{type} attention Hq={s.Hq} Hkv={s.Hkv} S={s.S} T={s.T} D={s.D} causal={s.Causal} qOffset={s.QOffset} mask={(s.Mask is { } mm ? $"{mm.Type}[{mm.Heads},{mm.Rows},T]" : "none")} scale={s.EffectiveScale.ToString("R", Ci)}, " +
                $"tiles Br={tl.Br} ({tl.HeadsPerBlock}x{tl.RowsPerHead}) Bc={tl.Bc}, {_steps.Count} steps");
            var free = new List<int> { SemKFree, SemVFree, SemQFree, SemPvFree, SemOutFree };
            if (s.Mask is not null)
            {
                free.Add(SemMaskFree);
            }

            foreach (int sem in free)
            {
                Line($"sem.post sem={sem} count=2");
            }

            // Scale, then a row of Bc zeros and Bc −inf: the causal mask of a row is a window into it. Nothing signals this load:
            // it precedes the first K load on the load queue, and the vector unit first waits on S, which the matrix unit drains
            // only after taking that K load's token, so the happens-before chain covers it.
            var consts = new float[16 + (s.Causal ? 2 * tl.Bc : 0)];
            consts[0] = s.EffectiveScale;
            if (s.Mask is not null)
            {
                // A runtime mask maps to 0 / −1e30 rather than −inf: a row whose first key block is all masked then has a finite
                // max (−1e30), exp(0) weights that the next visible block's α = exp(scale·(−1e30 − m)) = 0 wipes out, and no
                // −inf − (−inf) = NaN anywhere.
                // A float mask is added before the scale multiplies (S − m), so it is divided by the scale first.
                (consts[1], consts[2], consts[3]) = (MaskBig, -MaskBig, 1 / s.EffectiveScale);
            }

            for (int i = 16 + tl.Bc; i < consts.Length; i++)
            {
                consts[i] = float.NegativeInfinity;
            }

            Line($"dma.load desc={pb.Rows(4, 1, consts.Length, 0, 0)} sram={H(_lay.Const)} dram={H(pb.ConstF32(consts))}");
            for (int i = 0; i < _steps.Count; i++)
            {
                Loads(i);
                ScoreMatmul(i);
                if (i > 0)
                {
                    ValueMatmul(i - 1);
                }

                Softmax(i);
                if (i > 0)
                {
                    Update(i - 1);
                }
            }

            ValueMatmul(_steps.Count - 1);
            Update(_steps.Count - 1);
        }

        private void Loads(int i)
        {
            var st = _steps[i];
            var rb = _rbs[st.Rb];
            int d = s.D, cols = _t.MatrixCols, bc = st.Bc, g = rb.Group;
            if (st.First)
            {
                // Rows (head, position) of the block: a rectangle of q. No signal: the K load behind it on the same queue
                // signals, and the matrix unit waits on that before its first mm.mac.
                int desc = pb.Desc(E, rb.Nh, rb.Ns, d, (long)s.S * d * E, (long)d * E, E, (long)rb.Ns * d * E, (long)d * E, E);
                long src = q + ((((long)rb.H0 * s.S) + rb.S0) * d * E);
                Line($"dma.load desc={desc} sram={H(_lay.Q[st.Rb % 2])} dram={H(src)}{ProgramBuilder.Sync(SemQFree, 0)}");
            }

            if (s.Mask is { } mk)
            {
                // The block's distinct mask rows (heads × positions, each only if the mask has them), keys [J0, J0+bc). No
                // signal: like Q it sits ahead of a K load whose token the matrix unit takes before the S drain the vector
                // unit waits on. The buffer is free once the softmax two steps back widened its tile (SemMaskFree).
                var (mh, ms) = mk.Tile(rb);
                int me = mk.Elem;
                int desc = pb.Desc(me, mh, ms, bc, (long)mk.Rows * s.T * me, (long)s.T * me, me, (long)ms * bc * me, (long)bc * me, me);
                long src = mask + (((((long)(mk.Heads > 1 ? rb.H0 : 0) * mk.Rows) + (mk.Rows > 1 ? rb.S0 : 0)) * s.T) + st.J0) * me;
                Line($"dma.load desc={desc} sram={H(_lay.MaskIn[i % 2])} dram={H(src)}{ProgramBuilder.Sync(SemMaskFree, 0)}");
            }

            long kv = (((long)g * s.T) + st.J0) * d * E;
            int full = bc / cols, rem = bc % cols;

            // Kᵀ, re-blocked: keys [c·cols, c·cols+w) become a contiguous D × w tile, so each mm.ldw reads one.
            var kOps = new List<string>();
            if (full > 0)
            {
                kOps.Add($"dma.load desc={pb.Desc(E, full, cols, d, (long)cols * d * E, (long)d * E, E, (long)d * cols * E, (long)cols * E, E, transpose: true)} sram={H(_lay.K[i % 2])} dram={H(k + kv)}");
            }

            if (rem > 0)
            {
                kOps.Add($"dma.load desc={pb.Desc(E, 1, rem, d, 0, (long)d * E, E, 0, (long)rem * E, E, transpose: true)} sram={H(_lay.K[i % 2] + ((long)full * d * cols * E))} dram={H(k + kv + ((long)full * cols * d * E))}");
            }

            Run(kOps, SemKFree, SemK);

            // V, re-blocked by columns: head-dim block c is a contiguous bc × w tile.
            int dFull = d / cols, dRem = d % cols;
            var vOps = new List<string>();
            if (dFull > 0)
            {
                vOps.Add($"dma.load desc={pb.Desc(E, dFull, bc, cols, (long)cols * E, (long)d * E, E, (long)bc * cols * E, (long)cols * E, E)} sram={H(_lay.V[i % 2])} dram={H(v + kv)}");
            }

            if (dRem > 0)
            {
                vOps.Add($"dma.load desc={pb.Desc(E, 1, bc, dRem, 0, (long)d * E, E, 0, (long)dRem * E, E)} sram={H(_lay.V[i % 2] + ((long)dFull * bc * cols * E))} dram={H(v + kv + ((long)dFull * cols * E))}");
            }

            Run(vOps, SemVFree, SemV);
        }

        /// <summary>S = Q·Kᵀ into accumulator rows [AccS + c·nr, …) per key column block c, drained to the S buffer in f32,
        /// row-major with row stride bc.</summary>
        private void ScoreMatmul(int i)
        {
            var st = _steps[i];
            int nr = _rbs[st.Rb].Rows, d = s.D, rows = _t.MatrixRows, cols = _t.MatrixCols, bc = st.Bc;
            int blocks = AttentionLayout.Ceil(bc, cols), chunks = AttentionLayout.Ceil(d, rows);
            var ldw = new List<string>();
            var macs = new List<string>();
            for (int c = 0; c < blocks; c++)
            {
                int w = Math.Min(cols, bc - (c * cols));
                for (int j = 0; j < chunks; j++)
                {
                    int kr = Math.Min(rows, d - (j * rows));
                    ldw.Add($"mm.ldw src={H(_lay.K[i % 2] + ((long)c * d * cols * E) + ((long)j * rows * w * E))} k={kr} n={w} type={type}");
                    macs.Add($"mm.mac src={H(_lay.Q[st.Rb % 2] + ((long)j * rows * E))} acc={H(_lay.AccS + (c * nr))} m={nr} k={kr} stride={d * E} accumulate={(j > 0 ? 1 : 0)} type={type}");
                }
            }

            for (int x = 0; x < ldw.Count; x++)
            {
                Line(ldw[x] + ProgramBuilder.Sync(x == 0 ? SemK : 0, x == ldw.Count - 1 ? SemKFree : 0));
                Line(macs[x] + ProgramBuilder.Sync(0, x == macs.Count - 1 && st.Last ? SemQFree : 0));
            }

            // The S buffer was last used by PV(i−2), earlier on this queue, which waited for sm(i−2) to finish with it.
            var drains = new List<string>();
            for (int c = 0; c < blocks; c++)
            {
                drains.Add($"mm.drain acc={H(_lay.AccS + (c * nr))} dst={H(_lay.S[i % 2] + ((long)c * cols * 4))} m={nr} n={Math.Min(cols, bc - (c * cols))} stride={bc * 4} mode=f32");
            }

            Run(drains, 0, SemS);
        }

        /// <summary>P·V: P (the element type, in place of S, row stride bc) streams; V's column blocks are stationary.</summary>
        private void ValueMatmul(int i)
        {
            var st = _steps[i];
            int nr = _rbs[st.Rb].Rows, d = s.D, rows = _t.MatrixRows, cols = _t.MatrixCols, bc = st.Bc;
            int blocks = AttentionLayout.Ceil(d, cols), chunks = AttentionLayout.Ceil(bc, rows);
            int n = 0, total = blocks * chunks;
            for (int c = 0; c < blocks; c++)
            {
                int w = Math.Min(cols, d - (c * cols));
                for (int j = 0; j < chunks; j++, n++)
                {
                    int kr = Math.Min(rows, bc - (j * rows));
                    Line($"mm.ldw src={H(_lay.V[i % 2] + ((long)c * bc * cols * E) + ((long)j * rows * w * E))} k={kr} n={w} type={type}" +
                        ProgramBuilder.Sync(n == 0 ? SemV : 0, n == total - 1 ? SemVFree : 0));
                    Line($"mm.mac src={H(_lay.S[i % 2] + ((long)j * rows * E))} acc={H(_lay.AccPv + (c * nr))} m={nr} k={kr} stride={bc * E} accumulate={(j > 0 ? 1 : 0)} type={type}" +
                        ProgramBuilder.Sync(n == 0 ? SemP : 0, 0));
                }
            }

            var drains = new List<string>();
            for (int c = 0; c < blocks; c++)
            {
                drains.Add($"mm.drain acc={H(_lay.AccPv + (c * nr))} dst={H(_lay.Pv[i % 2] + ((long)c * cols * 4))} m={nr} n={Math.Min(cols, d - (c * cols))} stride={d * 4} mode=f32");
            }

            Run(drains, SemPvFree, SemPv);
        }

        /// <summary>The online-softmax step on the S buffer: mask, row max, m_new = max(m_old, rowmax), P = exp(scale·(S − m_new)),
        /// l = l·α + rowsum(P) with α = exp(scale·(m_old − m_new)), P narrowed in place. Scaling after subtracting the max (scale &gt; 0)
        /// lets one whole-block multiply replace a per-row one.</summary>
        private void Softmax(int i)
        {
            var st = _steps[i];
            var rb = _rbs[st.Rb];
            int nr = rb.Rows, bc = st.Bc;
            long sb = _lay.S[i % 2], mNew = _lay.M[i % 2], mOld = _lay.M[(i + 1) % 2], l = _lay.L[st.Rb % 2];
            long Row(int r) => sb + ((long)r * bc * 4);
            var ops = new List<string>();
            if (s.Mask is not null)
            {
                RuntimeMask(i, ops);
            }

            if (st.Masked)
            {
                for (int r = 0; r < nr; r++)
                {
                    long visible = (long)s.QOffset + rb.S0 + (r % rb.Ns) - st.J0 + 1;
                    if (visible < bc)
                    {
                        ops.Add($"v.add dst={H(Row(r))} a={H(Row(r))} b={H(_lay.Mask + ((tl.Bc - Math.Max(visible, 0)) * 4))} n={bc}");
                    }
                }
            }

            // A row's first key block always shows it key 0 (qOffset ≥ 0) or, with a runtime mask, scores of −1e30 at worst,
            // so its max is finite and m needs no −inf start.
            for (int r = 0; r < nr; r++)
            {
                ops.Add($"v.rmax dst={H((st.First ? mNew : _lay.Mx) + (r * 4))} a={H(Row(r))} n={bc}");
            }

            if (!st.First)
            {
                ops.Add($"v.max dst={H(mNew)} a={H(mOld)} b={H(_lay.Mx)} n={nr}");
            }

            for (int r = 0; r < nr; r++)
            {
                ops.Add($"v.sub dst={H(Row(r))} a={H(Row(r))} b={H(mNew + (r * 4))} n={bc} bcast=1");
            }

            ops.Add($"v.mul dst={H(sb)} a={H(sb)} b={H(_lay.Const)} n={nr * bc} bcast=1");
            ops.Add($"v.exp dst={H(sb)} a={H(sb)} n={nr * bc}");
            for (int r = 0; r < nr; r++)
            {
                ops.Add($"v.rsum dst={H((st.First ? l : _lay.Rs) + (r * 4))} a={H(Row(r))} n={bc}");
            }

            if (!st.First)
            {
                long a = _lay.Alpha[i % 2];
                ops.Add($"v.sub dst={H(a)} a={H(mOld)} b={H(mNew)} n={nr}");
                ops.Add($"v.mul dst={H(a)} a={H(a)} b={H(_lay.Const)} n={nr} bcast=1");
                ops.Add($"v.exp dst={H(a)} a={H(a)} n={nr}");
                ops.Add($"v.mul dst={H(l)} a={H(l)} b={H(a)} n={nr}");
                ops.Add($"v.add dst={H(l)} a={H(l)} b={H(_lay.Rs)} n={nr}");
            }

            ops.Add($"v.cvt dst={H(sb)} a={H(sb)} n={nr * bc} from=f32 to={type}");
            Run(ops, SemS, SemP);
        }

        /// <summary>Adds the runtime mask tile to the S block: widen it to f32 (that frees its load buffer), map bool to 0 / −1e30
        /// (m·1e30 − 1e30) or divide a float mask by the scale (the softmax scales after the mask is added) and clamp it at
        /// −1e30, then add it to every row (at once when the tile has every row).</summary>
        private void RuntimeMask(int i, List<string> ops)
        {
            var st = _steps[i];
            var rb = _rbs[st.Rb];
            var mk = s.Mask!;
            var (mh, ms) = mk.Tile(rb);
            int nr = rb.Rows, bc = st.Bc, n = mh * ms * bc;
            long mf = _lay.MaskF, big = _lay.Const + 4, neg = _lay.Const + 8, invScale = _lay.Const + 12;
            ops.Add($"v.cvt dst={H(mf)} a={H(_lay.MaskIn[i % 2])} n={n} from={(mk.Type == "bool" ? "i8" : mk.Type)} to=f32{ProgramBuilder.Sync(0, SemMaskFree)}");
            if (mk.Type == "bool")
            {
                ops.Add($"v.mul dst={H(mf)} a={H(mf)} b={H(big)} n={n} bcast=1");
                ops.Add($"v.sub dst={H(mf)} a={H(mf)} b={H(big)} n={n} bcast=1");
            }
            else
            {
                ops.Add($"v.mul dst={H(mf)} a={H(mf)} b={H(invScale)} n={n} bcast=1");
                ops.Add($"v.max dst={H(mf)} a={H(mf)} b={H(neg)} n={n} bcast=1");
            }

            long sb = _lay.S[i % 2];
            if (mh * ms == nr)
            {
                // Tile rows are the block's rows in order (head-major, then position), as are S's.
                ops.Add($"v.add dst={H(sb)} a={H(sb)} b={H(mf)} n={nr * bc}");
                return;
            }

            for (int r = 0; r < nr; r++)
            {
                int row = ((mh > 1 ? r / rb.Ns : 0) * ms) + (ms > 1 ? r % rb.Ns : 0);
                ops.Add($"v.add dst={H(sb + ((long)r * bc * 4))} a={H(sb + ((long)r * bc * 4))} b={H(mf + ((long)row * bc * 4))} n={bc}");
            }
        }

        /// <summary>O = O·α + P·V (the rescale does not wait for P·V, only the add does); after a row block's last key block,
        /// O/l narrowed to the element type and stored to dst rows (position, head).</summary>
        private void Update(int i)
        {
            var st = _steps[i];
            var rb = _rbs[st.Rb];
            int nr = rb.Rows, d = s.D;
            long o = _lay.O, pv = _lay.Pv[i % 2];
            if (st.First)
            {
                Line($"v.copy dst={H(o)} a={H(pv)} n={nr * d}{ProgramBuilder.Sync(SemPv, SemPvFree)}");
            }
            else
            {
                for (int r = 0; r < nr; r++)
                {
                    Line($"v.mul dst={H(o + ((long)r * d * 4))} a={H(o + ((long)r * d * 4))} b={H(_lay.Alpha[i % 2] + (r * 4))} n={d} bcast=1");
                }

                Line($"v.add dst={H(o)} a={H(o)} b={H(pv)} n={nr * d}{ProgramBuilder.Sync(SemPv, SemPvFree)}");
            }

            if (!st.Last)
            {
                return;
            }

            Line($"v.recip dst={H(_lay.Linv)} a={H(_lay.L[st.Rb % 2])} n={nr}");
            for (int r = 0; r < nr; r++)
            {
                Line($"v.mul dst={H(o + ((long)r * d * 4))} a={H(o + ((long)r * d * 4))} b={H(_lay.Linv + (r * 4))} n={d} bcast=1");
            }

            long outBuf = _lay.Out[st.Rb % 2];
            Line($"v.cvt dst={H(outBuf)} a={H(o)} n={nr * d} from=f32 to={type}{ProgramBuilder.Sync(SemOutFree, SemOut)}");

            // dst is [S, Hq, D]: a block's (head, position) rectangle goes out with the two outer strides swapped.
            int desc = pb.Desc(E, rb.Nh, rb.Ns, d, (long)d * E, (long)s.Hq * d * E, E, (long)rb.Ns * d * E, (long)d * E, E);
            long to = dst + ((((long)rb.S0 * s.Hq) + rb.H0) * d * E);
            Line($"dma.store desc={desc} sram={H(outBuf)} dram={H(to)}{ProgramBuilder.Sync(SemOut, SemOutFree)}");
        }
    }
}
