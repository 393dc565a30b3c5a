namespace Tessera.Tests.Cli;

/// <summary><c>tessera run</c> on every corpus ONNX model with its reference .npy files exits 0; a wrong expectation exits 1.</summary>
public class RunCliTests
{
    private static (int Code, string Out, string Err) Tessera(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tessera.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("llama-dynamo")]
    [InlineData("qwen2")]
    [InlineData("gpt2")]
    public void RunMatchesTorchLogits(string model)
    {
        var dir = $"tests/data/models/{model}";
        var (code, output, err) = Tessera("run", $"{dir}/model.onnx", "--target", "ref", "-O2", "--input", $"@{dir}/input_ids.npy", "--expected-output", $"@{dir}/logits_torch.npy", "--atol", "1e-4", "--rtol", "1e-3");
        Assert.True(code == 0, output + err);
        Assert.Contains("output #0: match", output);
    }

    [Fact]
    public void MismatchPrintsErrorsAndExitsOne()
    {
        var dir = "tests/data/models/gpt2";
        var (code, output, _) = Tessera("run", $"{dir}/model.onnx", "--input", $"@{dir}/input_ids.npy", "--expected-output", $"@tests/data/models/llama/logits_torch.npy");
        Assert.Equal(1, code);
        Assert.Contains("MISMATCH", output);
        Assert.Contains("max abs error", output);
    }

    [Fact]
    public void RunReadsOnnxTensorProtoFilesAndWritesNpy()
    {
        var test = "tests/data/onnx-node/test_add";
        var outDir = Directory.CreateTempSubdirectory("tessera-run-").FullName;
        try
        {
            var (code, output, err) = Tessera("run", $"{test}/model.onnx", "--input", $"@{test}/test_data_set_0/input_0.pb", "--input", $"@{test}/test_data_set_0/input_1.pb",
                "--expected-output", $"@{test}/test_data_set_0/output_0.pb", "--output-dir", outDir);
            Assert.True(code == 0, output + err);
            var written = global::Tessera.Onnx.Npy.Read(Path.Combine(outDir, "output_0.npy"));
            var expected = global::Tessera.Onnx.TensorFiles.Read(Path.Combine(Repo.Root, test, "test_data_set_0", "output_0.pb"));
            Assert.True(global::Tessera.Onnx.Compare.AllClose(written, expected, 0, 0).Ok);
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }

    [Fact]
    public void InspectListsOpsAndUnsupportedOnesAndBadModelsExitOne()
    {
        var (code, output, _) = Tessera("inspect", "tests/data/models/llama/model.onnx");
        Assert.Equal(0, code);
        Assert.Contains("input_ids: INT64[1x16]", output);
        Assert.Contains("parameters: 1,443,072", output);
        Assert.Contains("unsupported ops: 0", output);
        Assert.Matches(@"\s+20\s+MatMul", output);
        var junk = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(junk, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
            var (badCode, _, err) = Tessera("compile", junk, "--emit", "ir");
            Assert.Equal(1, badCode);
            Assert.Contains("TSR0502", err);
            Assert.DoesNotContain("   at ", err);
        }
        finally
        {
            File.Delete(junk);
        }
    }
}
