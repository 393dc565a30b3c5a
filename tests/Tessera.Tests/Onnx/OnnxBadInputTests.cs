using Google.Protobuf;
using Tessera.Dialects;
using Tessera.Onnx;
using Tessera.Onnx.Proto;

namespace Tessera.Tests.Onnx;

/// <summary>Bad models get a coded diagnostic naming the file and what is wrong, never an exception trace.</summary>
public sealed class OnnxBadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelProto Model(Action<GraphProto> build, int opset = 17)
    {
        var g = new GraphProto { Name = "g" };
        build(g);
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m;
    }

    private static ValueInfoProto Tensor(string name, int dtype, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = dtype, Shape = shape } } };
    }

    private string Write(ModelProto m, string name = "model.onnx")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, m.ToByteArray());
        return path;
    }

    private static T Fails<T>(Action a) where T : Exception => Assert.Throws<T>(a);

    private static Diagnostic ImportError(string path) =>
        Fails<DiagnosticException>(() => OnnxImporter.Import(Contexts.CreateDefault(), path)).Diagnostic;

    private static ModelProto WithInitializer(TensorProto t) => Model(g =>
    {
        g.Initializer.Add(t);
        g.Output.Add(Tensor(t.Name, 1, 4));
    });

    [Fact]
    public void TruncatedFileIsMalformed()
    {
        var bytes = WithInitializer(new TensorProto { Name = "w", DataType = 1, Dims = { 4 }, RawData = ByteString.CopyFrom(new byte[16]) }).ToByteArray();
        var path = Path.Combine(_dir, "truncated.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 5)]);
        var d = ImportError(path);
        Assert.Equal(OnnxCodes.Malformed, d.Code);
        Assert.Contains("truncated.onnx", d.Message);
    }

    [Fact]
    public void RawDataShorterThanTheShapeIsATensorSizeError()
    {
        var d = ImportError(Write(WithInitializer(new TensorProto { Name = "w", DataType = 1, Dims = { 4 }, RawData = ByteString.CopyFrom(new byte[12]) })));
        Assert.Equal(OnnxCodes.TensorSize, d.Code);
        Assert.Contains("initializer 'w': raw data has 12 bytes but tensor<4xf32> needs 16", d.Message);
    }

    [Fact]
    public void HugeShapeIsRefusedBeforeAllocating()
    {
        var d = ImportError(Write(WithInitializer(new TensorProto { Name = "w", DataType = 1, Dims = { 1L << 40, 1L << 30 }, RawData = ByteString.CopyFrom(new byte[4]) })));
        Assert.Equal(OnnxCodes.ImpossibleShape, d.Code);
        var d2 = ImportError(Write(WithInitializer(new TensorProto { Name = "w", DataType = 1, Dims = { -3 } })));
        Assert.Equal(OnnxCodes.ImpossibleShape, d2.Code);
    }

    private TensorProto External(string location, long offset = 0, long? length = null)
    {
        var t = new TensorProto { Name = "w", DataType = 1, Dims = { 4 }, DataLocation = TensorProto.Types.DataLocation.External };
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        if (length is long l)
        {
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        return t;
    }

    [Fact]
    public void ExternalDataInsideTheDirectoryIsMappedAndRead()
    {
        var data = new byte[32];
        BitConverter.GetBytes(1.5f).CopyTo(data, 16);
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), data);
        var module = OnnxImporter.Import(Contexts.CreateDefault(), Write(WithInitializer(External("weights.bin", offset: 16))));
        var constant = module.Walk().First(o => o.Name == "arith.constant");
        var attr = constant.GetAttr<DenseElementsAttr>("value")!;
        Assert.IsType<MappedStorage>(attr.Storage);
        Assert.Equal(1.5, attr.GetDouble(0));
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("sub/../../outside.bin")]
    [InlineData("/etc/passwd")]
    public void ExternalDataPathsThatEscapeAreRefused(string location)
    {
        var d = ImportError(Write(WithInitializer(External(location))));
        Assert.Equal(OnnxCodes.PathEscape, d.Code);
        Assert.Contains(location, d.Message);
    }

    [Fact]
    public void SymlinkThatEscapesIsRefused()
    {
        var outside = Directory.CreateTempSubdirectory("tessera-outside-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(outside, "secret.bin"), new byte[16]);
            File.CreateSymbolicLink(Path.Combine(_dir, "link.bin"), Path.Combine(outside, "secret.bin"));
            Directory.CreateSymbolicLink(Path.Combine(_dir, "linkdir"), outside);
            Assert.Equal(OnnxCodes.PathEscape, ImportError(Write(WithInitializer(External("link.bin")))).Code);
            Assert.Equal(OnnxCodes.PathEscape, ImportError(Write(WithInitializer(External("linkdir/secret.bin")))).Code);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void ExternalDataBeyondTheFileIsRefused()
    {
        File.WriteAllBytes(Path.Combine(_dir, "small.bin"), new byte[20]);
        var d = ImportError(Write(WithInitializer(External("small.bin", offset: 8))));
        Assert.Equal(OnnxCodes.ExternalBounds, d.Code);
        var d2 = ImportError(Write(WithInitializer(External("small.bin", offset: 0, length: 1L << 40))));
        Assert.Equal(OnnxCodes.TensorSize, d2.Code);
    }

    [Fact]
    public void UnsupportedOpsAreAllReportedWithTypeDomainOpsetAndNode()
    {
        var path = Write(Model(g =>
        {
            g.Input.Add(Tensor("x", 1, 2));
            g.Node.Add(new NodeProto { OpType = "FrobnicateA", Name = "first", Input = { "x" }, Output = { "y" } });
            g.Node.Add(new NodeProto { OpType = "FrobnicateB", Domain = "com.example", Input = { "y" }, Output = { "z" } });
            g.Output.Add(Tensor("z", 1, 2));
        }, opset: 19));
        var e = Fails<ImportException>(() => OnnxImporter.Import(Contexts.CreateDefault(), path));
        Assert.Equal(2, e.Diagnostics.Count);
        Assert.All(e.Diagnostics, d => Assert.Equal(OnnxCodes.UnsupportedOp, d.Code));
        Assert.Contains("unsupported op 'FrobnicateA' (domain 'ai.onnx', opset 19) at node 'first'", e.Diagnostics[0].Message);
        Assert.Equal("first", ((NameLoc)e.Diagnostics[0].Location).Name);
        Assert.Contains("unsupported op 'FrobnicateB' (domain 'com.example', opset 1) at node 'FrobnicateB_1'", e.Diagnostics[1].Message);
    }

    [Fact]
    public void UndefinedInputIsNamed()
    {
        var path = Write(Model(g =>
        {
            g.Node.Add(new NodeProto { OpType = "Constant", Name = "c", Output = { "y" }, Attribute = { new AttributeProto { Name = "value_float", F = 1, Type = AttributeProto.Types.AttributeType.Float } } });
            g.Output.Add(Tensor("nowhere", 1));
        }));
        var d = ImportError(path);
        Assert.Equal(OnnxCodes.UndefinedValue, d.Code);
        Assert.Contains("graph output 'nowhere'", d.Message);
    }

    [Fact]
    public void MissingFileAndNonOnnxFile()
    {
        Assert.Equal(OnnxCodes.FileUnreadable, ImportError(Path.Combine(_dir, "absent.onnx")).Code);
        var junk = Path.Combine(_dir, "junk.onnx");
        File.WriteAllText(junk, "this is not a protobuf at all, just text \u00ff\u00fe");
        Assert.Equal(OnnxCodes.Malformed, ImportError(junk).Code);
    }

    [Fact]
    public void NpyWithAShapeLargerThanTheFileIsRefused()
    {
        var path = Path.Combine(_dir, "bad.npy");
        Npy.Write(path, Tessera.Dialects.Graph.NDArray.Create(FloatType.F32, [4], new double[] { 1, 2, 3, 4 }));
        var back = Npy.Read(path);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, back.F);
        var bytes = File.ReadAllBytes(path);
        var text = System.Text.Encoding.Latin1.GetString(bytes).Replace("(4,)", "(9,)");
        File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(text));
        var d = Fails<DiagnosticException>(() => Npy.Read(path)).Diagnostic;
        Assert.Equal(OnnxCodes.NpyFormat, d.Code);
    }
}
