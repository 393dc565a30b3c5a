namespace Tessera.Tests.Infrastructure;

public class FileCheckTests
{
    private const string Output = "a = 1\n%5 = add %3, %4\nb = %5\nend";

    [Fact]
    public void MatchesInOrderAndBindsCaptures()
    {
        var src = "// CHECK: [[V:%[0-9]+]] = add\n// CHECK-NEXT: b = [[V]]\n// CHECK-NOT: mul\n// CHECK: end";
        Assert.Null(FileCheck.Check(src, Output));
    }

    [Fact]
    public void FailsWhenCaptureDiffers()
    {
        var src = "// CHECK: [[V:%[0-9]+]] = add\n// CHECK: b = [[V]]x";
        Assert.NotNull(FileCheck.Check(src, Output));
    }

    [Fact]
    public void FailsOnCheckNotBetweenMatches()
    {
        Assert.NotNull(FileCheck.Check("// CHECK: a = 1\n// CHECK-NOT: add\n// CHECK: end", Output));
    }

    [Fact]
    public void CheckNextRequiresTheVeryNextLine()
    {
        Assert.NotNull(FileCheck.Check("// CHECK: a = 1\n// CHECK-NEXT: b =", Output));
        Assert.Null(FileCheck.Check("// CHECK: a = 1\n// CHECK-NEXT: {{.*}} = add", Output));
    }

    [Fact]
    public void CheckCountAndSame()
    {
        Assert.Null(FileCheck.Check("// CHECK-COUNT-2: %{{[0-9]}}\n// CHECK-SAME: ", "%1 x\n%2 y"));
        Assert.NotNull(FileCheck.Check("// CHECK-COUNT-3: %{{[0-9]}}", "%1 x\n%2 y"));
    }
}
