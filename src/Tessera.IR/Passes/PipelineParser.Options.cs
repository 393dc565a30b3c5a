using System.Text;

namespace Tessera.IR.Passes;

/// <summary>Pass options in a textual pipeline: <c>{key=value key2="quoted value"}</c>.</summary>
public sealed partial class PipelineParser
{
    /// <summary>Parses <c>key=value</c> pairs up to and including the closing brace.</summary>
    private void ParseOptions(Pass pass)
    {
        while (true)
        {
            SkipSpace();
            if (Peek == '}')
            {
                _pos++;
                return;
            }

            if (Peek == ',')
            {
                _pos++;
                continue;
            }

            int col = _pos;
            string key = PeekName();
            if (key.Length == 0)
            {
                throw Error(DiagnosticCodes.PipelineSyntax, _pos,
                    AtEnd ? $"expected an option name or '}}' for pass '{pass.Flag}', got end of pipeline"
                          : $"expected an option name or '}}' for pass '{pass.Flag}', got '{_text[_pos]}'");
            }

            _pos += key.Length;
            var option = pass.Options.FirstOrDefault(o => o.Name == key);
            if (option is null)
            {
                var known = pass.Options.Count == 0 ? "it has no options" : "expected one of: " + string.Join(", ", pass.Options.Select(o => o.Name));
                throw Error(DiagnosticCodes.PipelineBadOption, col, $"unknown option '{key}' for pass '{pass.Flag}'; {known}");
            }

            SkipSpace();
            Expect('=', $"'=' after option '{key}'");
            SkipSpace();
            int valueCol = _pos;
            string value = ParseValue();
            if (option.TrySet(value) is { } message)
            {
                throw Error(DiagnosticCodes.PipelineBadOption, valueCol, $"pass '{pass.Flag}': {message}");
            }
        }
    }

    private string ParseValue()
    {
        if (Peek == '"')
        {
            int start = _pos;
            _pos++;
            var sb = new StringBuilder();
            while (!AtEnd && _text[_pos] != '"')
            {
                if (_text[_pos] == '\\' && _pos + 1 < _text.Length)
                {
                    _pos++;
                }

                sb.Append(_text[_pos++]);
            }

            if (AtEnd)
            {
                throw Error(DiagnosticCodes.PipelineSyntax, start, "unterminated quoted option value");
            }

            _pos++;
            return sb.ToString();
        }

        int begin = _pos;
        while (!AtEnd && !char.IsWhiteSpace(_text[_pos]) && _text[_pos] is not (',' or '}' or '{' or '(' or ')' or '"'))
        {
            _pos++;
        }

        if (_pos == begin)
        {
            throw Error(DiagnosticCodes.PipelineSyntax, _pos,
                AtEnd ? "expected an option value, got end of pipeline" : $"expected an option value, got '{_text[_pos]}'");
        }

        return _text[begin.._pos];
    }
}
