using System.Globalization;

namespace Tessera.IR.Passes;

public enum PassResult { Unchanged, Changed, Failed }

/// <summary>What a pass sees while it runs.</summary>
public sealed class PassContext(Context context, DiagnosticBag diagnostics)
{
    public Context Context { get; } = context;
    public DiagnosticBag Diagnostics { get; } = diagnostics;
}

/// <summary>A typed pass option, written <c>pass{name=value}</c> in a textual pipeline.</summary>
public abstract class PassOption(string name, string description)
{
    public string Name { get; } = name;
    public string Description { get; } = description;
    public abstract string ValueText { get; }
    public abstract string DefaultText { get; }
    public bool IsDefault => ValueText == DefaultText;

    /// <summary>Sets the value from text; returns an error message or null.</summary>
    public abstract string? TrySet(string text);
}

public sealed class PassOption<T>(string name, T defaultValue, string description) : PassOption(name, description)
    where T : notnull
{
    public T Value { get; set; } = defaultValue;
    public T Default { get; } = defaultValue;
    public override string ValueText => Format(Value);
    public override string DefaultText => Format(Default);

    private static string Format(T v) => v switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    public override string? TrySet(string text)
    {
        object? parsed = Value switch
        {
            bool => text switch { "true" or "1" => true, "false" or "0" => false, _ => null },
            int => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null,
            long => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null,
            double => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            string => text,
            _ => null,
        };
        if (parsed is not T t)
        {
            return $"option '{Name}' expects {(Value is bool ? "true or false" : Value.GetType().Name.ToLowerInvariant())}, got '{text}'";
        }

        Value = t;
        return null;
    }
}

/// <summary>
/// A transformation, declared with its command-line flag, a summary, an anchor op and typed options.
/// One pass per file in passes/, the file named after the flag. A pass reports whether it changed the IR;
/// the pass manager checks that claim in debug mode.
/// </summary>
public abstract class Pass
{
    private readonly List<PassOption> _options = [];
    private readonly SortedDictionary<string, long> _statistics = new(StringComparer.Ordinal);

    /// <summary>The flag used in pipelines, e.g. <c>canonicalize</c> or <c>symbol-dce</c>.</summary>
    public abstract string Flag { get; }

    public abstract string Summary { get; }

    /// <summary>The op name the pass runs on (e.g. <c>func.func</c>); null runs on any op.</summary>
    public virtual string? AnchorOp => null;

    public IReadOnlyList<PassOption> Options => _options;

    /// <summary>Counters the pass kept during its runs, in name order (<c>--pass-statistics</c>).</summary>
    public IReadOnlyDictionary<string, long> Statistics => _statistics;

    protected PassOption<T> Option<T>(string name, T defaultValue, string description) where T : notnull
    {
        var o = new PassOption<T>(name, defaultValue, description);
        _options.Add(o);
        return o;
    }

    protected void Count(string statistic, long n = 1)
    {
        if (n != 0)
        {
            _statistics[statistic] = _statistics.GetValueOrDefault(statistic) + n;
        }
    }

    /// <summary>Runs on <paramref name="op"/>. Report user errors to the context's diagnostics and return Failed.</summary>
    public abstract PassResult Run(Operation op, PassContext context);

    /// <summary>The pass as pipeline text: <c>flag</c> or <c>flag{opt=value ...}</c> with non-default options.</summary>
    public override string ToString()
    {
        var set = _options.Where(o => !o.IsDefault).Select(o => $"{o.Name}={o.ValueText}").ToList();
        return set.Count == 0 ? Flag : $"{Flag}{{{string.Join(" ", set)}}}";
    }
}
