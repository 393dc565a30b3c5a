using System.Text;
using Tessera.Gguf;

namespace Tessera.Tests.Gguf;

/// <summary>One regression test per known GGUF loader bug class: each bad file gets its coded diagnostic, never a crash or a huge allocation.</summary>
public sealed partial class GgufReaderTests
{
    /// <summary>Writes GGUF bytes field by field, so a test can put any value anywhere.</summary>
    private sealed class Raw
    {
        private readonly MemoryStream _ms = new();
        private readonly BinaryWriter _w;

        public Raw(ulong nTensors, ulong nKv, uint version = 3, uint magic = GgufFile.Magic)
        {
            _w = new BinaryWriter(_ms);
            _w.Write(magic);
            _w.Write(version);
            _w.Write(nTensors);
            _w.Write(nKv);
        }

        public Raw U8(byte v) { _w.Write(v); return this; }
        public Raw U32(uint v) { _w.Write(v); return this; }
        public Raw U64(ulong v) { _w.Write(v); return this; }
        public Raw Str(string s) { var b = Encoding.UTF8.GetBytes(s); _w.Write((ulong)b.Length); _w.Write(b); return this; }
        public Raw Kv(string key, GgufValueType t) => Str(key).U32((uint)t);

        public Raw Tensor(string name, ulong[] dims, GgmlType type, ulong offset)
        {
            Str(name).U32((uint)dims.Length);
            foreach (var d in dims)
            {
                U64(d);
            }

            return U32((uint)type).U64(offset);
        }

        public Raw Data(int alignment, int bytes)
        {
            _w.Write(new byte[(alignment - (int)(_ms.Length % alignment)) % alignment]);
            _w.Write(new byte[bytes]);
            return this;
        }

        public byte[] Bytes() { _w.Flush(); return _ms.ToArray(); }
    }

    private string Save(byte[] bytes, string name = "bad.gguf")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private Diagnostic OpenError(byte[] bytes) => OpenError(Save(bytes));

    private static Diagnostic OpenError(string path)
    {
        var e = Assert.Throws<DiagnosticException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains(path, e.Diagnostic.Message);
        return e.Diagnostic;
    }

    private void AssertError(string code, string mentions, byte[] bytes)
    {
        var d = OpenError(bytes);
        Assert.True(d.Code == code, $"expected {code}, got {d.Code}: {d.Message}");
        Assert.Contains(mentions, d.Message);
    }

    [Fact] // (a) CVE-2024-21802 class
    public void HugeStringLengthIsRefusedBeforeAllocating()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertError(GgufCodes.Truncated, "metadata key #0", new Raw(0, 1).U64(1UL << 62).Data(1, 64).Bytes());
        AssertError(GgufCodes.Truncated, "general.name", new Raw(0, 1).Kv("general.name", GgufValueType.String).U64(ulong.MaxValue).Data(1, 64).Bytes());
        AssertError(GgufCodes.Truncated, "name of tensor #0", new Raw(1, 0).U64(1UL << 40).Data(1, 64).Bytes());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact] // (b) CVE-2024-21836 / CVE-2024-23496 class
    public void HugeArrayCountsAndDeepNestingAreRefused()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertError(GgufCodes.Truncated, "tokenizer.ggml.scores: array count", new Raw(0, 1).Kv("tokenizer.ggml.scores", GgufValueType.Array).U32((uint)GgufValueType.U64).U64(1UL << 40).Bytes());
        // Strings take at least 8 bytes each: 30 of them cannot fit in 200 bytes even though 30 < 200.
        AssertError(GgufCodes.Truncated, "toks", new Raw(0, 1).Kv("toks", GgufValueType.Array).U32((uint)GgufValueType.String).U64(30).Data(1, 200).Bytes());
        // An inner array's count is checked too.
        AssertError(GgufCodes.Truncated, "nested", new Raw(0, 1).Kv("nested", GgufValueType.Array).U32((uint)GgufValueType.Array).U64(1)
            .U32((uint)GgufValueType.U32).U64(ulong.MaxValue / 2).Bytes());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);

        var deep = new Raw(0, 1).Kv("deep", GgufValueType.Array);
        for (int i = 0; i < 64; i++)
        {
            deep.U32((uint)GgufValueType.Array).U64(1);
        }

        AssertError(GgufCodes.Overflow, "deep: arrays nested more than", deep.U32((uint)GgufValueType.U8).U64(0).Bytes());
    }

    [Fact] // (c) CVE-2024-25664..25668 class
    public void HugeKeyValueAndTensorCountsAreRefused()
    {
        AssertError(GgufCodes.Truncated, "metadata key-value count", new Raw(0, 1UL << 62).Data(1, 100).Bytes());
        AssertError(GgufCodes.Truncated, "tensor count", new Raw(ulong.MaxValue, 0).Bytes());
        AssertError(GgufCodes.Truncated, "tensor count", new Raw(5, 0).Tensor("a", [1], GgmlType.F32, 0).Bytes());
    }

    [Fact] // (d) CVE-2024-21825 class
    public void MoreThanFourDimsIsRefused()
    {
        AssertError(GgufCodes.TooManyDims, "tensor blk.0.attn_q.weight has 5 dimensions",
            new Raw(1, 0).Tensor("blk.0.attn_q.weight", [1, 1, 1, 1, 1], GgmlType.F32, 0).Data(32, 4).Bytes());
        AssertError(GgufCodes.TooManyDims, "w", new Raw(1, 0).Str("w").U32(uint.MaxValue).Data(1, 64).Bytes());
    }

    [Fact] // (e) CVE-2025-53630 class
    public void ElementCountAndByteSizeOverflowsAreRefused()
    {
        AssertError(GgufCodes.Overflow, "tensor w: element count overflows", new Raw(1, 0).Tensor("w", [1UL << 32, 1UL << 32, 1UL << 32], GgmlType.F32, 0).Data(32, 4).Bytes());
        AssertError(GgufCodes.Overflow, "tensor w: byte size overflows", new Raw(1, 0).Tensor("w", [1UL << 31, 1UL << 31], GgmlType.F32, 0).Data(32, 4).Bytes());
        AssertError(GgufCodes.Overflow, "tensor w: dimension 1", new Raw(1, 0).Tensor("w", [1, ulong.MaxValue], GgmlType.F32, 0).Data(32, 4).Bytes());
        AssertError(GgufCodes.BadShape, "tensor w: dimension 0 is 0", new Raw(1, 0).Tensor("w", [0, 4], GgmlType.F32, 0).Data(32, 4).Bytes());
        AssertError(GgufCodes.BadShape, "not a multiple of the Q4_K block size 256", new Raw(1, 0).Tensor("w", [128, 2], GgmlType.Q4_K, 0).Data(32, 144).Bytes());
    }

    [Fact] // (f) CVE-2024-23605 class
    public void TensorDataOutsideTheDataSectionIsRefused()
    {
        AssertError(GgufCodes.OutOfBounds, "tensor w: data [4096, +16)", new Raw(1, 0).Tensor("w", [4], GgmlType.F32, 4096).Data(32, 64).Bytes());
        AssertError(GgufCodes.OutOfBounds, "tensor w", new Raw(1, 0).Tensor("w", [4], GgmlType.F32, ulong.MaxValue - 31).Data(32, 64).Bytes());
        AssertError(GgufCodes.OutOfBounds, "tensor v", new Raw(2, 0).Tensor("w", [4], GgmlType.F32, 0).Tensor("v", [16], GgmlType.F32, 32).Data(32, 64).Bytes());
        AssertError(GgufCodes.OutOfBounds, "tensor w", new Raw(1, 0).Tensor("w", [4], GgmlType.F32, 0).Bytes()); // no data at all
        AssertError(GgufCodes.BadAlignment, "tensor w: offset 4 is not a multiple of the alignment 32", new Raw(1, 0).Tensor("w", [4], GgmlType.F32, 4).Data(32, 64).Bytes());
    }

    [Theory] // (g) CVE-2026-27940 class
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(48u)]
    [InlineData(1u << 31)]
    [InlineData(uint.MaxValue)]
    public void BadAlignmentIsRefused(uint alignment)
    {
        AssertError(GgufCodes.BadAlignment, $"general.alignment is {alignment}",
            new Raw(1, 1).Kv("general.alignment", GgufValueType.U32).U32(alignment).Tensor("w", [4], GgmlType.F32, 0).Data(64, 16).Bytes());
    }

    [Fact]
    public void AlignmentOfAnotherTypeIsRefused() =>
        AssertError(GgufCodes.BadAlignment, "general.alignment has type String", new Raw(0, 1).Kv("general.alignment", GgufValueType.String).Str("32").Bytes());

    [Fact] // (h) CVE-2026-33298 class
    public void DuplicateKeysAndTensorNamesAreRefused()
    {
        AssertError(GgufCodes.Duplicate, "metadata key general.name appears twice",
            new Raw(0, 2).Kv("general.name", GgufValueType.String).Str("a").Kv("general.name", GgufValueType.U32).U32(1).Bytes());
        AssertError(GgufCodes.Duplicate, "tensor output.weight appears twice",
            new Raw(2, 0).Tensor("output.weight", [4], GgmlType.F32, 0).Tensor("output.weight", [4], GgmlType.F32, 32).Data(32, 64).Bytes());
    }

    [Fact] // (i) truncated files: every cut inside the header is Truncated, every cut inside the data OutOfBounds
    public void EveryTruncationIsDiagnosed()
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValues.String("llama"));
        w.Add("a", GgufValues.Array(GgufValueType.Array, [GgufValues.I32s([1, 2, 3]), GgufValues.Strings(["x", "yz"])]));
        w.Add("f", GgufValues.F64(2.5));
        w.AddTensor("w", GgmlType.Q8_0, [32, 2], new byte[68]);
        w.AddTensor("b", GgmlType.F32, [3], new byte[12]);
        var ms = new MemoryStream();
        w.Write(ms);
        var full = ms.ToArray();
        long dataOffset;
        using (var ok = GgufFile.Open(Save(full, "full.gguf")))
        {
            dataOffset = ok.DataOffset;
        }

        for (int n = 1; n < full.Length - 20; n++) // the last 20 bytes are b's padding
        {
            var d = OpenError(Save(full[..n], $"cut{n}.gguf"));
            string want = n < 4 ? GgufCodes.BadMagic : n < dataOffset - 32 ? GgufCodes.Truncated : GgufCodes.OutOfBounds;
            if (n >= dataOffset - 32 && n < dataOffset)
            {
                want = d.Code; // cut in the tensor-info padding: either is right
            }

            Assert.True(d.Code == want, $"cut at {n}: expected {want}, got {d.Code}: {d.Message}");
        }
    }

    [Fact] // (j)
    public void UnknownValueAndTensorTypesAreRefused()
    {
        AssertError(GgufCodes.BadType, "k: value type is 13", new Raw(0, 1).Str("k").U32(13).U32(0).Bytes());
        AssertError(GgufCodes.BadType, "k: array element type is 99", new Raw(0, 1).Kv("k", GgufValueType.Array).U32(99).U64(0).Bytes());
        AssertError(GgufCodes.BadType, "k: bool value 2", new Raw(0, 1).Kv("k", GgufValueType.Bool).U8(2).Bytes());
        AssertError(GgufCodes.BadType, "tensor w has unknown ggml type 4", new Raw(1, 0).Tensor("w", [32], (GgmlType)4, 0).Data(32, 32).Bytes());
        AssertError(GgufCodes.BadType, "tensor w has unknown ggml type 1000", new Raw(1, 0).Tensor("w", [32], (GgmlType)1000, 0).Data(32, 32).Bytes());

        // A type the reader can size but Tessera has no IR type for opens, and TensorAttr names the tensor.
        using var f = GgufFile.Open(Save(new Raw(1, 0).Tensor("blk.0.ffn_up.weight", [256], GgmlType.IQ2_XXS, 0).Data(32, 66).Bytes()));
        var e = Assert.Throws<DiagnosticException>(() => f.TensorAttr(f.Tensors[0]));
        Assert.Equal(GgufCodes.BadType, e.Diagnostic.Code);
        Assert.Contains("blk.0.ffn_up.weight has type IQ2_XXS", e.Diagnostic.Message);
    }

    [Fact] // (k)
    public void BadMagicAndVersionsAreRefused()
    {
        AssertError(GgufCodes.BadMagic, "not a GGUF file", new Raw(0, 0, magic: 0x4C4D4747).Bytes()); // "GGML"
        AssertError(GgufCodes.BadMagic, "not a GGUF file", [(byte)'G', (byte)'G']);
        AssertError(GgufCodes.BadVersion, "GGUF v1 is not supported", new Raw(0, 0, version: 1).Bytes());
        AssertError(GgufCodes.BadVersion, "version 4", new Raw(0, 0, version: 4).Bytes());
        AssertError(GgufCodes.BadVersion, "big-endian", new Raw(0, 0, version: 0x03000000).Bytes());
        using (var v2 = GgufFile.Open(Save(new Raw(1, 1, version: 2).Kv("k", GgufValueType.U8).U8(1).Tensor("w", [2], GgmlType.F16, 0).Data(32, 4).Bytes())))
        {
            Assert.Equal(2u, v2.Version);
            Assert.Equal("tensor<2xf16>", v2.TensorAttr(v2.Tensors[0]).Type.Text);
        }

        Assert.Equal(GgufCodes.FileUnreadable, OpenError(Path.Combine(_dir, "missing.gguf")).Code);
        Assert.Equal(GgufCodes.FileUnreadable, OpenError(Save([], "empty.gguf")).Code);
    }
}
