using System.Diagnostics;
using Tessera.Npu.Isa;
using Tessera.Npu.Simulator;
using Tessera.Npu.Target;

namespace Tessera.Tests.Npu;

internal static class NpuTestUtil
{
    public static string Example(string name) => Path.Combine(Repo.Root, "targets/Npu/examples", name);
    public static NpuTarget E1 => TargetLoader.LoadFile(Path.Combine(Repo.Root, "targets/Npu/configs/e1.json"));

    /// <summary>A shipped target description read from the source tree.</summary>
    public static NpuTarget Config(string name) => TargetLoader.LoadFile(Path.Combine(Repo.Root, "targets/Npu/configs", name + ".json"));

    /// <summary><paramref name="v"/> rounded to f16 or bf16 (<paramref name="t"/>).</summary>
    public static double Round(double v, string t) =>
        t == "f16" ? (double)(Half)v : Numerics.Bf16ToF32(Numerics.F32ToBf16((float)v));

    /// <summary>Little-endian f16 or bf16 bits of values already of that type (f16 through .NET's Half, independent of the
    /// simulator's conversions).</summary>
    public static byte[] Bits(double[] v, string t)
    {
        var b = new byte[2 * v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            ushort h = t == "f16" ? BitConverter.HalfToUInt16Bits((Half)v[i]) : Numerics.F32ToBf16((float)v[i]);
            b[2 * i] = (byte)h;
            b[(2 * i) + 1] = (byte)(h >> 8);
        }

        return b;
    }

    /// <summary>The values of little-endian f16 or bf16 bits.</summary>
    public static double[] Values(byte[] b, string t) =>
        Enumerable.Range(0, b.Length / 2).Select(i =>
        {
            ushort h = (ushort)(b[2 * i] | (b[(2 * i) + 1] << 8));
            return (double)(t == "f16" ? Numerics.F16ToF32(h) : Numerics.Bf16ToF32(h));
        }).ToArray();

    /// <summary>One unit in the last place of <paramref name="v"/> in f16 or bf16 (subnormals: the smallest normal's).</summary>
    public static double Ulp(double v, string t)
    {
        int mant = t == "f16" ? 10 : 7;
        double minNormal = t == "f16" ? Math.Pow(2, -14) : Math.Pow(2, -126);
        return Math.Pow(2, Math.Floor(Math.Log2(Math.Max(Math.Abs(v), minNormal))) - mant);
    }

    public static Session Load(string example, Func<string, string>? edit = null)
    {
        var text = File.ReadAllText(Example(example));
        return new Session(Assembler.Assemble(edit is null ? text : edit(text), example), E1);
    }

    /// <summary>DMA cycles written out from the target's fields: latency + ceil(bytes × clock / bandwidth).</summary>
    public static long Dma(NpuTarget t, long bytes) => t.DmaLatencyCycles + (long)decimal.Ceiling(bytes * t.ClockGHz / t.DmaBandwidthGBps);

    /// <summary>Independent reference: round((x) / 2^shift) half to even, in double (exact while |x| &lt; 2^53).</summary>
    public static long RoundShift(long x, int shift) => (long)Math.Round(x / Math.Pow(2, shift), MidpointRounding.ToEven);

    public static sbyte Sat8(long v) => (sbyte)Math.Max(-128, Math.Min(127, v));

    /// <summary>Runs the built tessera CLI; returns its exit code and stdout + stderr.</summary>
    public static (int Code, string Output) RunCli(string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "tessera.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(exe);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var proc = Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        var stderr = proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        return (proc.ExitCode, stdout.Result + stderr);
    }
}
