using System.Buffers.Binary;

namespace Tessera.Npu.Simulator;

/// <summary>Matrix unit: a weight-stationary array of target rows × cols; weights k × n (k ≤ rows, n ≤ cols).</summary>
public sealed partial class Machine
{
    private static int MatrixElemBytes(long type) => type == 0 ? 1 : 2;

    private float ReadFloat16(ReadOnlySpan<byte> b, long type) =>
        type == 1 ? Numerics.F16ToF32(BinaryPrimitives.ReadUInt16LittleEndian(b)) : Numerics.Bf16ToF32(BinaryPrimitives.ReadUInt16LittleEndian(b));

    private void LoadWeights(Issued x)
    {
        int k = (int)x["k"], n = (int)x["n"];
        long type = x["type"];
        if (k < 1 || k > _t.MatrixRows || n < 1 || n > _t.MatrixCols)
        {
            throw Bad($"weight tile {k} x {n} does not fit the {_t.MatrixRows} x {_t.MatrixCols} array");
        }

        int eb = MatrixElemBytes(type);
        long src = x["src"];
        Touch(Sram, src, (long)k * n * eb, write: false);
        (_wk, _wn, _wtype) = (k, n, (int)type);
        if (!Functional)
        {
            return;
        }

        var bytes = Sram.Read(src, k * n * eb, _who);
        if (type == 0)
        {
            _weightsI = new int[k * n];
            for (int i = 0; i < k * n; i++)
            {
                _weightsI[i] = (sbyte)bytes[i];
            }
        }
        else
        {
            _weightsF = new float[k * n];
            for (int i = 0; i < k * n; i++)
            {
                _weightsF[i] = ReadFloat16(bytes.AsSpan(2 * i), type);
            }
        }
    }

    private void Mac(Issued x)
    {
        int m = (int)x["m"], k = (int)x["k"];
        long type = x["type"];
        if (_wtype < 0 || type != _wtype || k != _wk)
        {
            throw Bad($"mm.mac type={Isa.Opcodes.MatrixTypes[type]} k={k} does not match the loaded weights ({(_wtype < 0 ? "none loaded" : $"type={Isa.Opcodes.MatrixTypes[_wtype]} k={_wk}")})");
        }

        long accRow = x["acc"];
        if (m < 1 || accRow + m > _t.AccumulatorRows)
        {
            throw NpuCodes.Error(NpuCodes.SimOutOfBounds, _who, $"accumulator rows [{accRow}, {accRow + m}) are outside [0, {_t.AccumulatorRows})");
        }

        int eb = MatrixElemBytes(type);
        long stride = x["stride"] == 0 ? (long)k * eb : x["stride"];
        bool accumulate = x["accumulate"] != 0;
        int cols = _t.MatrixCols, n = _wn;
        var row = new byte[k * eb];
        var inF = new float[k];
        for (int r = 0; r < m; r++)
        {
            long src = x["src"] + r * stride;
            Touch(Sram, src, k * eb, write: false);
            if (!Functional)
            {
                continue;
            }

            Sram.Read(src, row, _who);
            int baseIdx = (int)((accRow + r) * cols);
            if (type == 0)
            {
                for (int j = 0; j < n; j++)
                {
                    int s = 0;
                    for (int kk = 0; kk < k; kk++)
                    {
                        s += (sbyte)row[kk] * _weightsI[kk * n + j];
                    }

                    _acc[baseIdx + j] = accumulate ? unchecked(_acc[baseIdx + j] + s) : s;
                }
            }
            else
            {
                for (int kk = 0; kk < k; kk++)
                {
                    inF[kk] = ReadFloat16(row.AsSpan(2 * kk), type);
                }

                for (int j = 0; j < n; j++)
                {
                    float s = accumulate ? BitConverter.Int32BitsToSingle(_acc[baseIdx + j]) : 0f;
                    for (int kk = 0; kk < k; kk++)
                    {
                        s += inF[kk] * _weightsF[kk * n + j];
                    }

                    _acc[baseIdx + j] = BitConverter.SingleToInt32Bits(s);
                }
            }
        }

        Macs += (long)m * k * n;
    }

    private void Drain(Issued x)
    {
        int m = (int)x["m"], n = (int)x["n"];
        long mode = x["mode"], accRow = x["acc"];
        if (n < 1 || n > _t.MatrixCols || m < 1 || accRow + m > _t.AccumulatorRows)
        {
            throw NpuCodes.Error(NpuCodes.SimOutOfBounds, _who, $"drain of accumulator rows [{accRow}, {accRow + m}) x {n} columns is outside {_t.AccumulatorRows} x {_t.MatrixCols}");
        }

        int eb = mode switch { 0 or 2 => 4, 1 => 1, _ => 2 };
        long stride = x["stride"] == 0 ? (long)n * eb : x["stride"];
        var q = _qcfg[1];
        var outRow = new byte[n * eb];
        for (int r = 0; r < m; r++)
        {
            long dst = x["dst"] + r * stride;
            if (!Functional)
            {
                Touch(Sram, dst, n * eb, write: true);
                continue;
            }

            int baseIdx = (int)((accRow + r) * _t.MatrixCols);
            for (int j = 0; j < n; j++)
            {
                int v = _acc[baseIdx + j];
                var o = outRow.AsSpan(j * eb);
                switch (mode)
                {
                    case 0: case 2: BinaryPrimitives.WriteInt32LittleEndian(o, v); break;
                    case 1: o[0] = (byte)Numerics.Requantize(v, q.Mult, q.Shift, q.ZpIn, q.ZpOut); break;
                    case 3: BinaryPrimitives.WriteUInt16LittleEndian(o, Numerics.F32ToF16(BitConverter.Int32BitsToSingle(v))); break;
                    default: BinaryPrimitives.WriteUInt16LittleEndian(o, Numerics.F32ToBf16(BitConverter.Int32BitsToSingle(v))); break;
                }
            }

            Touch(Sram, dst, n * eb, write: true);
            Sram.Write(dst, outRow, _who);
        }
    }
}
