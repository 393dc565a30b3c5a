using Tessera.Dialects;

namespace Tessera.Tests.IR;

public class TypeAndAttributeTests
{
    private static readonly Context Ctx = Contexts.CreateDefault();

    [Theory]
    [InlineData("f32")]
    [InlineData("bf16")]
    [InlineData("i4")]
    [InlineData("ui8")]
    [InlineData("index")]
    [InlineData("tensor<1x16x256xf32>")]
    [InlineData("tensor<?x4xf16>")]
    [InlineData("tensor<1x{seq}x256xf32>")]
    [InlineData("tensor<*xi8>")]
    [InlineData("tensor<f32>")]
    [InlineData("memref<32x32xi8, sram>")]
    [InlineData("memref<16xi32, acc>")]
    [InlineData("(i32, tensor<4xf32>) -> (i32, i1)")]
    [InlineData("() -> ()")]
    [InlineData("!quant.uniform<i8:f32, 0.5:-3>")]
    [InlineData("!quant.uniform<i8:f32:1, {0.5:0, 0.25:1}>")]
    [InlineData("!quant.uniform<ui4:f16:1/32>")]
    [InlineData("tensor<4096x4096x!ggml.q4_k>")]
    public void TypesRoundTrip(string text) => Assert.Equal(text, Parser.ParseType(Ctx, text).Text);

    [Fact]
    public void ShapedTypesKnowTheirSize()
    {
        var t = (ShapedType)Parser.ParseType(Ctx, "tensor<2x3x4xf32>");
        Assert.Equal(24, t.ElementCount);
        Assert.Equal(3, t.Rank);
        Assert.Null(((ShapedType)Parser.ParseType(Ctx, "tensor<?x4xf32>")).ElementCount);
        Assert.Equal(MemorySpace.Sram, ((MemRefType)Parser.ParseType(Ctx, "memref<4xf32, sram>")).Space);
    }

    [Theory]
    [InlineData("q4_0", 32, 18)]
    [InlineData("q8_0", 32, 34)]
    [InlineData("q4_k", 256, 144)]
    [InlineData("q6_k", 256, 210)]
    [InlineData("mxfp4", 32, 17)]
    public void BlockTypesKnowTheirLayout(string name, int block, int bytes)
    {
        var t = (BlockQuantType)Parser.ParseType(Ctx, "!ggml." + name);
        Assert.Equal(block, t.BlockSize);
        Assert.Equal(bytes, t.BytesPerBlock);
        Assert.Equal(4096L / block * bytes, t.ByteSize(4096));
        Assert.Null(t.ByteSize(block + 1));
    }

    [Fact]
    public void QuantizedTypeGranularityAndRange()
    {
        var pt = (QuantizedType)Parser.ParseType(Ctx, "!quant.uniform<i8:f32, 0.5:-3>");
        Assert.Equal(QuantGranularity.PerTensor, pt.Granularity);
        Assert.Equal((-128L, 127L), pt.StorageRange);
        var pg = (QuantizedType)Parser.ParseType(Ctx, "!quant.uniform<ui4:f16:1/32>");
        Assert.Equal(QuantGranularity.PerGroup, pg.Granularity);
        Assert.Equal((0L, 15L), pg.StorageRange);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("-7 : i8")]
    [InlineData("1.5")]
    [InlineData("0.1 : f32")]
    [InlineData("1.0e-05 : f32")]
    [InlineData("0x7FC00000 : f32")]
    [InlineData("0xFF800000 : f32")]
    [InlineData("true")]
    [InlineData("unit")]
    [InlineData("\"a \\\"quoted\\\" \\n string\"")]
    [InlineData("[1, 2.5, \"x\", [true]]")]
    [InlineData("{a = 1, \"b c\" = f32, flag}")]
    [InlineData("@main")]
    [InlineData("@outer::@inner")]
    [InlineData("tensor<4xf32>")]
    [InlineData("dense<[1.0, 2.0, 3.0]> : tensor<3xf32>")]
    [InlineData("dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>")]
    [InlineData("dense<0.5> : tensor<8x8xf16>")]
    [InlineData("dense<[true, false]> : tensor<2xi1>")]
    [InlineData("dense<[-8, 7, 1]> : tensor<3xi4>")]
    [InlineData("dense<[0x7FC0, 1.5]> : tensor<2xbf16>")]
    [InlineData("dense<\"0x0102030405060708090A0B0C0D0E0F101112\"> : tensor<32x!ggml.q4_0>")]
    [InlineData("dense_resource<__elided__> : tensor<1024x1024xf32>")]
    public void AttributesRoundTrip(string text) => Assert.Equal(text, Parser.ParseAttribute(Ctx, text).Text);

    [Fact]
    public void DictionaryKeysPrintSortedWhateverTheInputOrder()
    {
        Assert.Equal("{a = 1, b = 2}", Parser.ParseAttribute(Ctx, "{b = 2, a = 1}").Text);
    }

    [Fact]
    public void DenseValuesAreStoredExactly()
    {
        var d = (DenseElementsAttr)Parser.ParseAttribute(Ctx, "dense<[[1.5, -2.0], [0.1, 3.0]]> : tensor<2x2xf32>");
        Assert.Equal(4, d.ElementCount);
        Assert.Equal(0.1f, (float)d.GetDouble(2));
        Assert.Equal(16, d.Storage.Length);
        var i4 = (DenseElementsAttr)Parser.ParseAttribute(Ctx, "dense<[-8, 7, 1]> : tensor<3xi4>");
        Assert.Equal(2, i4.Storage.Length);
        Assert.Equal(new[] { -8L, 7L, 1L }, new[] { i4.GetLong(0), i4.GetLong(1), i4.GetLong(2) });
    }

    [Fact]
    public void LargeDenseConstantsAreElidedByDefaultAndHexOnRequest()
    {
        var type = TensorType.Of(FloatType.F32, 1000);
        var d = DenseElementsAttr.FromDoubles(type, Enumerable.Range(0, 1000).Select(i => (double)i).ToArray());
        Assert.Equal("dense_resource<__elided__> : tensor<1000xf32>", AttributePrinter.Print(d, PrintOptions.Default));
        var hex = AttributePrinter.Print(d, PrintOptions.Full);
        Assert.StartsWith("dense<\"0x00000000", hex);
        Assert.Equal(d, Parser.ParseAttribute(Ctx, hex));
    }

    [Fact]
    public void MappedStorageReadsTheFileWithoutCopying()
    {
        var path = Path.GetTempFileName();
        try
        {
            var bytes = new byte[64];
            BitConverter.GetBytes(2.5f).CopyTo(bytes, 16);
            File.WriteAllBytes(path, bytes);
            using var file = MappedFile.Open(path);
            var attr = new DenseElementsAttr(TensorType.Of(FloatType.F32, 4), new MappedStorage(file, 16, 16));
            Assert.Equal(2.5, attr.GetDouble(0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new MappedStorage(file, 60, 16));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
