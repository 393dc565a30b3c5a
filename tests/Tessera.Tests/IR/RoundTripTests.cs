using Tessera.Dialects;
using Tessera.IR.Tools;

namespace Tessera.Tests.IR;

/// <summary>print → parse → print is the identity on text, for every .tir file in the repository.</summary>
public class RoundTripTests
{
    public static IEnumerable<object[]> TirFiles() =>
        Directory.EnumerateFiles(Repo.Root, "*.tir", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(f => Path.GetRelativePath(Repo.Root, f))
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new object[] { f });

    [Fact]
    public void TheRepositoryHasTirFiles() => Assert.True(TirFiles().Count() >= 10);

    [Theory]
    [MemberData(nameof(TirFiles))]
    public void EveryTirFileRoundTrips(string relativePath)
    {
        var text = File.ReadAllText(Path.Combine(Repo.Root, relativePath));
        int chunks = 0;
        foreach (var chunk in SplitInput.Split(text))
        {
            // Chunks that expect errors are invalid on purpose; the diagnostics tests cover them.
            if (chunk.Text.Contains("expected-error", StringComparison.Ordinal))
            {
                continue;
            }

            var ctx = Contexts.CreateDefault(allowUnregistered: true);
            foreach (var options in new[] { PrintOptions.Default, PrintOptions.Full, PrintOptions.GenericWithLocations })
            {
                var first = Printer.PrintOp(Parser.ParseModule(ctx, chunk.Text, relativePath), options);
                var second = Printer.PrintOp(Parser.ParseModule(ctx, first, relativePath + ".printed"), options);
                Assert.Equal(first, second);
            }

            chunks++;
        }

        Assert.True(chunks > 0 || text.Contains("expected-error", StringComparison.Ordinal));
    }
}
