namespace Tessera.IR.Passes;

/// <summary>
/// Reads textual pipelines in MLIR syntax: <c>builtin.module(func.func(canonicalize{max-iterations=5},cse),symbol-dce)</c>.
/// A pipeline that does not start with an op anchor (<c>name(</c>) is a bare list anchored on <c>builtin.module</c>.
/// Options are <c>key=value</c> pairs in braces, separated by spaces or commas; values may be double-quoted.
/// Named pipelines from the registry expand in place. Errors are coded diagnostics with the column in the text;
/// parsing stops at the first one. Recursion follows the text's nesting, capped at <see cref="OpPassManager.MaxNesting"/>.
/// </summary>
public sealed partial class PipelineParser
{
    public const string DefaultAnchor = "builtin.module";

    private readonly string _text;
    private readonly PassRegistry _registry;
    private readonly string _source;
    private readonly List<string> _expanding;
    private readonly int _baseDepth;
    private int _pos;

    private sealed class PipelineError(Diagnostic diagnostic) : Exception(diagnostic.Message)
    {
        public Diagnostic Diagnostic { get; } = diagnostic;
    }

    private PipelineParser(string text, PassRegistry registry, string source, List<string> expanding, int baseDepth)
    {
        _text = text;
        _registry = registry;
        _source = source;
        _expanding = expanding;
        _baseDepth = baseDepth;
    }

    /// <summary>Parses <paramref name="text"/>; on error reports a diagnostic and returns null.</summary>
    public static OpPassManager? Parse(string text, PassRegistry registry, DiagnosticBag diags, string source = "<pipeline>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = new PipelineParser(text, registry, source, [], 0);
        try
        {
            return p.ParseTop().Pm;
        }
        catch (PipelineError e)
        {
            diags.Add(e.Diagnostic);
            return null;
        }
    }

    /// <summary>Pass flags, pipeline names and op anchors: letters, digits, <c>_ - . $</c>.</summary>
    public static bool IsValidName(string name) => name.Length > 0 && name.All(IsNameChar);

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '$';

    private (OpPassManager Pm, bool ExplicitAnchor) ParseTop()
    {
        SkipSpace();
        int start = _pos;
        if (AtEnd)
        {
            return (new OpPassManager(DefaultAnchor), false);
        }

        string name = PeekName();
        int afterName = _pos + name.Length;
        while (afterName < _text.Length && char.IsWhiteSpace(_text[afterName]))
        {
            afterName++;
        }

        if (name.Length > 0 && afterName < _text.Length && _text[afterName] == '(')
        {
            _pos = afterName + 1;
            var pm = new OpPassManager(name);
            ParseList(pm, _baseDepth + 1, ')');
            Expect(')', "',' or ')'");
            SkipSpace();
            if (!AtEnd)
            {
                throw Error(DiagnosticCodes.PipelineSyntax, _pos,
                    $"expected end of pipeline after '{name}(...)', got '{_text[_pos]}' (a pipeline has one top-level anchor)");
            }

            return (pm, true);
        }

        _pos = start;
        var root = new OpPassManager(DefaultAnchor);
        ParseList(root, _baseDepth + 1, '\0');
        if (!AtEnd)
        {
            throw Error(DiagnosticCodes.PipelineSyntax, _pos, $"expected ',' or end of pipeline, got '{_text[_pos]}'");
        }

        return (root, false);
    }

    /// <summary>Parses a possibly empty comma-separated list of elements up to <paramref name="close"/> (not consumed).</summary>
    private void ParseList(OpPassManager pm, int depth, char close)
    {
        if (depth > OpPassManager.MaxNesting)
        {
            throw Error(DiagnosticCodes.PipelineSyntax, _pos,
                $"pipeline nested deeper than {PassRegistry.Int(OpPassManager.MaxNesting)} levels");
        }

        SkipSpace();
        if (close != '\0' && Peek == close)
        {
            return;
        }

        while (true)
        {
            ParseElement(pm, depth);
            SkipSpace();
            if (Peek != ',')
            {
                return;
            }

            _pos++;
        }
    }

    private void ParseElement(OpPassManager pm, int depth)
    {
        SkipSpace();
        int col = _pos;
        string name = PeekName();
        if (name.Length == 0)
        {
            throw Error(DiagnosticCodes.PipelineSyntax, _pos,
                AtEnd ? "expected a pass name, got end of pipeline" : $"expected a pass name, got '{_text[_pos]}'");
        }

        _pos += name.Length;
        SkipSpace();
        if (Peek == '(')
        {
            _pos++;
            var nested = new OpPassManager(name);
            ParseList(nested, depth + 1, ')');
            Expect(')', "',' or ')'");
            pm.AddNested(nested);
            return;
        }

        if (_registry.LookupPass(name) is { } info)
        {
            var pass = info.Create();
            if (Peek == '{')
            {
                _pos++;
                ParseOptions(pass);
            }

            if (pass.AnchorOp is { } a && a != pm.Anchor)
            {
                throw Error(DiagnosticCodes.PipelineAnchor, col, $"pass '{name}' runs on '{a}' but is placed under '{pm.Anchor}'");
            }

            pm.AddPass(pass);
            return;
        }

        if (_registry.LookupPipeline(name) is { } pipeline)
        {
            if (Peek == '{')
            {
                throw Error(DiagnosticCodes.PipelineBadOption, _pos, $"named pipeline '{name}' takes no options");
            }

            ExpandNamed(pm, pipeline, col, depth);
            return;
        }

        var suggestion = _registry.Suggest(name);
        throw Error(DiagnosticCodes.PipelineUnknownPass, col,
            $"unknown pass '{name}'" + (suggestion is null ? "" : $"; did you mean '{suggestion}'?"));
    }

    private void ExpandNamed(OpPassManager pm, PipelineInfo pipeline, int col, int depth)
    {
        if (_expanding.Contains(pipeline.Name))
        {
            throw Error(DiagnosticCodes.PipelineSyntax, col,
                $"named pipeline '{pipeline.Name}' refers to itself ({string.Join(" -> ", _expanding)} -> {pipeline.Name})");
        }

        _expanding.Add(pipeline.Name);
        var inner = new PipelineParser(pipeline.PipelineText, _registry, $"pipeline '{pipeline.Name}'", _expanding, depth);
        (OpPassManager Pm, bool ExplicitAnchor) parsed;
        try
        {
            parsed = inner.ParseTop();
        }
        catch (PipelineError e)
        {
            var d = e.Diagnostic;
            var innerCol = d.Location.FilePosition?.Column ?? 0;
            throw Error(d.Code, col, $"in named pipeline '{pipeline.Name}' at column {PassRegistry.Int(innerCol)}: {d.Message}");
        }
        finally
        {
            _expanding.RemoveAt(_expanding.Count - 1);
        }

        if (parsed.ExplicitAnchor && parsed.Pm.Anchor != pm.Anchor)
        {
            throw Error(DiagnosticCodes.PipelineAnchor, col,
                $"named pipeline '{pipeline.Name}' is anchored on '{parsed.Pm.Anchor}' but used under '{pm.Anchor}'");
        }

        foreach (var item in parsed.Pm.Items)
        {
            if (item.Pass is { AnchorOp: { } a } p && a != pm.Anchor)
            {
                throw Error(DiagnosticCodes.PipelineAnchor, col,
                    $"pass '{p.Flag}' of named pipeline '{pipeline.Name}' runs on '{a}' but is placed under '{pm.Anchor}'");
            }
        }

        pm.AddRange(parsed.Pm.Items);
    }

    private bool AtEnd => _pos >= _text.Length;
    private char Peek => _pos < _text.Length ? _text[_pos] : '\0';

    private string PeekName()
    {
        int end = _pos;
        while (end < _text.Length && IsNameChar(_text[end]))
        {
            end++;
        }

        return _text[_pos..end];
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }

    private void Expect(char c, string what)
    {
        SkipSpace();
        if (Peek != c)
        {
            throw Error(DiagnosticCodes.PipelineSyntax, _pos,
                AtEnd ? $"expected {what}, got end of pipeline" : $"expected {what}, got '{_text[_pos]}'");
        }

        _pos++;
    }

    private PipelineError Error(string code, int pos, string message) =>
        new(new Diagnostic(Severity.Error, code, message, new FileLineColLoc(_source, 1, pos + 1)));
}
