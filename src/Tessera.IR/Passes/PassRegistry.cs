using System.Globalization;
using System.Text;

namespace Tessera.IR.Passes;

/// <summary>A registered pass: its flag, summary, anchor and options (with defaults), and how to make one.</summary>
public sealed class PassInfo(string flag, string summary, string? anchorOp, IReadOnlyList<PassOption> options, Func<Pass> factory)
{
    public string Flag { get; } = flag;
    public string Summary { get; } = summary;
    public string? AnchorOp { get; } = anchorOp;

    /// <summary>The options of a fresh instance, so their values are the defaults.</summary>
    public IReadOnlyList<PassOption> Options { get; } = options;

    /// <summary>A new instance; every pipeline position gets its own.</summary>
    public Pass Create() => factory();
}

/// <summary>A named pipeline, usable by name inside a textual pipeline (e.g. <c>O2</c>).</summary>
public sealed record PipelineInfo(string Name, string Description, string PipelineText);

/// <summary>
/// Passes by flag and named pipelines by name. Lookups are ordinal; listings are sorted by flag or name.
/// A new registry already holds the optimization levels <c>O0</c>..<c>O3</c> (see <see cref="NamedPipelines"/>).
/// </summary>
public sealed class PassRegistry
{
    private readonly Dictionary<string, PassInfo> _passes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PipelineInfo> _pipelines = new(StringComparer.Ordinal);

    public PassRegistry(bool withBuiltinPipelines = true)
    {
        if (withBuiltinPipelines)
        {
            NamedPipelines.RegisterOptimizationLevels(this);
        }
    }

    /// <summary>Registers a pass. The flag must match the flag of the passes the factory makes.</summary>
    public void Register(string flag, Func<Pass> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (!PipelineParser.IsValidName(flag))
        {
            throw new ArgumentException($"'{flag}' is not a valid pass flag", nameof(flag));
        }

        if (_passes.ContainsKey(flag) || _pipelines.ContainsKey(flag))
        {
            throw new ArgumentException($"'{flag}' is already registered", nameof(flag));
        }

        var sample = factory();
        if (sample.Flag != flag)
        {
            throw new ArgumentException($"pass registered as '{flag}' reports flag '{sample.Flag}'", nameof(flag));
        }

        _passes[flag] = new PassInfo(flag, sample.Summary, sample.AnchorOp, sample.Options, factory);
    }

    /// <summary>Registers a pass type with a parameterless constructor under its own flag.</summary>
    public void Register<T>() where T : Pass, new() => Register(new T().Flag, () => new T());

    public void RegisterPipeline(string name, string description, string pipelineText)
    {
        ArgumentNullException.ThrowIfNull(pipelineText);
        if (!PipelineParser.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid pipeline name", nameof(name));
        }

        if (_passes.ContainsKey(name) || _pipelines.ContainsKey(name))
        {
            throw new ArgumentException($"'{name}' is already registered", nameof(name));
        }

        _pipelines[name] = new PipelineInfo(name, description, pipelineText);
    }

    public PassInfo? LookupPass(string flag) => _passes.GetValueOrDefault(flag);
    public PipelineInfo? LookupPipeline(string name) => _pipelines.GetValueOrDefault(name);

    /// <summary>A new instance of the pass registered under <paramref name="flag"/>, or null.</summary>
    public Pass? CreatePass(string flag) => _passes.TryGetValue(flag, out var info) ? info.Create() : null;

    public IReadOnlyList<PassInfo> Passes => _passes.Values.OrderBy(p => p.Flag, StringComparer.Ordinal).ToList();
    public IReadOnlyList<PipelineInfo> Pipelines => _pipelines.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();

    /// <summary>The registered flag or pipeline name nearest to <paramref name="name"/> by edit distance, if close enough.</summary>
    public string? Suggest(string name)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        // Passes before pipeline names, each in flag order, so ties go to the first pass.
        foreach (var candidate in _passes.Keys.Order(StringComparer.Ordinal).Concat(_pipelines.Keys.Order(StringComparer.Ordinal)))
        {
            int d = EditDistance(name, candidate);
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }

        return best is not null && bestDistance <= Math.Max(3, name.Length / 2) ? best : null;
    }

    /// <summary>The text of <c>--list-passes</c>: passes by flag with their options, then named pipelines.</summary>
    public string FormatList()
    {
        var sb = new StringBuilder();
        sb.Append("Passes:\n");
        foreach (var p in Passes)
        {
            sb.Append("  ").Append(p.Flag);
            if (p.AnchorOp is not null)
            {
                sb.Append(" (on ").Append(p.AnchorOp).Append(')');
            }

            sb.Append(" - ").Append(p.Summary).Append('\n');
            foreach (var o in p.Options)
            {
                sb.Append("      ").Append(o.Name).Append('=').Append(o.DefaultText)
                    .Append(" - ").Append(o.Description).Append('\n');
            }
        }

        sb.Append("Pipelines:\n");
        foreach (var p in Pipelines)
        {
            sb.Append("  ").Append(p.Name).Append(" - ").Append(p.Description).Append('\n');
            sb.Append("      ").Append(p.PipelineText).Append('\n');
        }

        return sb.ToString();
    }

    internal static int EditDistance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
            }

            (prev, cur) = (cur, prev);
        }

        return prev[b.Length];
    }

    internal static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);
}
