namespace Tessera.IR;

// TEMPORARY: stands in for the verifier being written on another branch, so the pass manager builds.
// Drop this file at merge.
public sealed record VerifierOptions
{
    public bool CheckDominance { get; init; } = true;
    public int MaxNesting { get; init; } = Parser.MaxNesting;
}

public static class Verifier
{
    public static bool Verify(Operation root, DiagnosticBag diags, VerifierOptions? options = null)
    {
        _ = root;
        _ = diags;
        _ = options;
        return true;
    }
}
