using System.Buffers.Binary;

namespace Tessera.Npu.Simulator;

/// <summary>Vector unit: every op reads all its inputs, then writes its output (in-place is allowed).</summary>
public sealed partial class Machine
{
    private static readonly int[] ElemBytes = [1, 4, 4, 2, 2];   // i8 i32 f32 f16 bf16

    private byte[] In(long addr, long count, int eb)
    {
        Touch(Sram, addr, count * eb, write: false);
        return Sram.Read(addr, (int)(count * eb), _who);
    }

    private void Out(long addr, byte[] data)
    {
        Touch(Sram, addr, data.Length, write: true);
        Sram.Write(addr, data, _who);
    }

    private static float F(byte[] b, long i) => BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan((int)(4 * i)));
    private static int I(byte[] b, long i) => BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan((int)(4 * i)));

    private void Vector(Issued x)
    {
        var op = x.Ins.Op.Mnemonic;
        long n = x["n"];
        if (n < 1)
        {
            throw Bad("n must be at least 1");
        }

        if (!Functional)
        {
            TouchOperands(op, x, n);
            return;
        }

        switch (op)
        {
            case "v.add" or "v.sub" or "v.mul" or "v.max" or "v.min":
                Binary(op, x, n);
                return;
            case "v.rsum" or "v.rmax":
                Reduce(op == "v.rsum", x, n);
                return;
            case "v.cvt":
                Convert(x, n);
                return;
            case "v.requant":
                {
                    bool fromI8 = x["from"] == 1;
                    var a = In(x["a"], n, fromI8 ? 1 : 4);
                    var q = _qcfg[2];
                    var o = new byte[n];
                    for (long i = 0; i < n; i++)
                    {
                        o[i] = (byte)Numerics.Requantize(fromI8 ? (sbyte)a[i] : I(a, i), q.Mult, q.Shift, q.ZpIn, q.ZpOut);
                    }

                    Out(x["dst"], o);
                    return;
                }
        }

        var src = In(x["a"], n, 4);
        var res = new byte[n * 4];
        Func<float, float> f = op switch
        {
            "v.exp" => Numerics.Exp,
            "v.rsqrt" => Numerics.Rsqrt,
            "v.recip" => Numerics.Recip,
            "v.silu" => Numerics.Silu,
            "v.gelu" => Numerics.Gelu,
            "v.copy" => v => v,
            _ => throw new InvalidOperationException($"no semantics for {op}"),
        };
        if (op == "v.copy")
        {
            Out(x["dst"], src);
            return;
        }

        for (long i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(res.AsSpan((int)(4 * i)), f(F(src, i)));
        }

        Out(x["dst"], res);
    }

    /// <summary>Timing only: the SRAM accesses the op makes, in the order it makes them, and nothing else.</summary>
    private void TouchOperands(string op, Issued x, long n)
    {
        (int a, long bCount, long outBytes) = op switch
        {
            "v.add" or "v.sub" or "v.mul" or "v.max" or "v.min" => (4, x["bcast"] != 0 ? 1 : n, n * 4),
            "v.rsum" or "v.rmax" => (4, 0, 4),
            "v.cvt" => (ElemBytes[x["from"]], 0, n * ElemBytes[x["to"]]),
            "v.requant" => (x["from"] == 1 ? 1 : 4, 0, n),
            _ => (4, 0L, n * 4),
        };
        Touch(Sram, x["a"], n * a, write: false);
        if (bCount > 0)
        {
            Touch(Sram, x["b"], bCount * 4, write: false);
        }

        Touch(Sram, x["dst"], outBytes, write: true);
    }

    private void Binary(string op, Issued x, long n)
    {
        bool bcast = x["bcast"] != 0, isInt = x["type"] == 1;
        var a = In(x["a"], n, 4);
        var b = In(x["b"], bcast ? 1 : n, 4);
        var res = new byte[n * 4];
        for (long i = 0; i < n; i++)
        {
            long j = bcast ? 0 : i;
            var o = res.AsSpan((int)(4 * i));
            if (isInt)
            {
                int p = I(a, i), q = I(b, j);
                BinaryPrimitives.WriteInt32LittleEndian(o, op switch
                {
                    "v.add" => unchecked(p + q),
                    "v.sub" => unchecked(p - q),
                    "v.mul" => unchecked(p * q),
                    "v.max" => Math.Max(p, q),
                    _ => Math.Min(p, q),
                });
            }
            else
            {
                float p = F(a, i), q = F(b, j);
                BinaryPrimitives.WriteSingleLittleEndian(o, op switch
                {
                    "v.add" => p + q,
                    "v.sub" => p - q,
                    "v.mul" => p * q,
                    "v.max" => Numerics.Max(p, q),
                    _ => Numerics.Min(p, q),
                });
            }
        }

        Out(x["dst"], res);
    }

    private void Reduce(bool sum, Issued x, long n)
    {
        var a = In(x["a"], n, 4);
        float r;
        if (sum)
        {
            int lanes = _t.VectorLanes;
            var acc = new float[lanes];
            for (long i = 0; i < n; i++)
            {
                acc[i % lanes] += F(a, i);
            }

            for (int w = lanes / 2; w >= 1; w /= 2)
            {
                for (int l = 0; l < w; l++)
                {
                    acc[l] += acc[l + w];
                }
            }

            r = acc[0];
        }
        else
        {
            r = float.NegativeInfinity;
            for (long i = 0; i < n; i++)
            {
                float v = F(a, i);
                r = float.IsNaN(v) ? Numerics.QNaN : float.IsNaN(r) ? r : v > r ? v : r;
            }
        }

        var o = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(o, r);
        Out(x["dst"], o);
    }

    private void Convert(Issued x, long n)
    {
        int from = (int)x["from"], to = (int)x["to"];
        var a = In(x["a"], n, ElemBytes[from]);
        var o = new byte[n * ElemBytes[to]];
        for (long i = 0; i < n; i++)
        {
            // Integers stay exact as long; floats go through fp32 (f16 and bf16 widen exactly).
            bool isInt = from <= 1;
            long iv = from == 0 ? (sbyte)a[i] : from == 1 ? I(a, i) : 0;
            float fv = from switch
            {
                2 => F(a, i),
                3 => Numerics.F16ToF32(BinaryPrimitives.ReadUInt16LittleEndian(a.AsSpan((int)(2 * i)))),
                4 => Numerics.Bf16ToF32(BinaryPrimitives.ReadUInt16LittleEndian(a.AsSpan((int)(2 * i)))),
                _ => (float)iv,
            };
            var d = o.AsSpan((int)(i * ElemBytes[to]));
            switch (to)
            {
                case 0: d[0] = (byte)(sbyte)(isInt ? Math.Clamp(iv, -128, 127) : Numerics.FloatToInt(fv, -128, 127)); break;
                case 1: BinaryPrimitives.WriteInt32LittleEndian(d, (int)(isInt ? iv : Numerics.FloatToInt(fv, int.MinValue, int.MaxValue))); break;
                case 2: BinaryPrimitives.WriteSingleLittleEndian(d, fv); break;
                case 3: BinaryPrimitives.WriteUInt16LittleEndian(d, Numerics.F32ToF16(fv)); break;
                default: BinaryPrimitives.WriteUInt16LittleEndian(d, Numerics.F32ToBf16(fv)); break;
            }
        }

        Out(x["dst"], o);
    }
}
