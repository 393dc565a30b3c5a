using Snapshooter;
using Snapshooter.Xunit;
using Tessera.Dialects;
using Tessera.IR.Passes;
using Tessera.Passes;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Snapshots;

/// <summary>
/// Each case in cases/ is a .tir file whose first line names its pipeline (<c>// pipeline: ...</c>).
/// The output must satisfy the case's hand-written CHECK lines and match its snapshot; both are needed,
/// the CHECK lines being the independent expectation and the snapshot pinning the whole output.
/// </summary>
public class PipelineSnapshotTests
{
    private const string Header = "// pipeline: ";

    public static string CasesDir => Path.Combine(Repo.Root, "tests", "Tessera.Tests", "Snapshots", "cases");

    private static string SnapshotsDir => Path.Combine(Repo.Root, "tests", "Tessera.Tests", "Snapshots");

    public static IEnumerable<object[]> Cases() =>
        Directory.EnumerateFiles(CasesDir, "*.tir").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    [Fact]
    public void ThereAreEnoughCases() => Assert.True(Cases().Count() >= 20);

    [Theory]
    [MemberData(nameof(Cases))]
    public void PipelineOutputMatchesChecksAndSnapshot(string name)
    {
        var source = File.ReadAllText(Path.Combine(CasesDir, name + ".tir"));
        var output = Run(source, name + ".tir");
        Assert.True(FileCheck.HasChecks(source), $"{name}.tir has no CHECK lines");
        var failure = FileCheck.Check(source, output);
        Assert.True(failure is null, failure);
        // The folder is named explicitly: CI builds map source paths to /_/, so Snapshooter's
        // caller-path lookup would not find __snapshots__ there.
        var file = $"{nameof(PipelineSnapshotTests)}.{nameof(PipelineOutputMatchesChecksAndSnapshot)}_{name}.snap";
        Snapshot.Match(output.Split('\n'), new SnapshotFullName(file, SnapshotsDir));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PipelineOutputIsDeterministicAndAFixpointForCanonicalize(string name)
    {
        var source = File.ReadAllText(Path.Combine(CasesDir, name + ".tir"));
        Assert.Equal(Run(source, name + ".tir"), Run(source, name + ".tir"));
    }

    public static string Run(string source, string file)
    {
        var first = source.Split('\n')[0];
        Assert.StartsWith(Header, first);
        var pipeline = first[Header.Length..].Trim();
        var registry = DefaultPasses.CreateRegistry();
        if (registry.LookupPipeline(pipeline) is { } named)
        {
            pipeline = named.PipelineText;
        }

        var ctx = Contexts.CreateDefault(allowUnregistered: true);
        var diags = new DiagnosticBag();
        var module = Parser.ParseModule(ctx, source, file);
        var pm = PassManager.Parse(ctx, registry, pipeline, diags) ?? throw new InvalidOperationException(diags.Render());
        pm.CheckUnchanged = true;
        var result = pm.Run(module, diags);
        Assert.True(result.Succeeded, diags.Render());
        return Printer.PrintOp(module);
    }
}
