namespace Tessera.IR;

public sealed partial class OpParser
{
    public Location ParseLocation()
    {
        ExpectKeyword("loc", "to start location");
        ExpectPunct("(", "after 'loc'");
        var l = ParseLocationBody();
        ExpectPunct(")", "to close location");
        return l;
    }

    private Location ParseLocationBody()
    {
        Enter();
        try
        {
            if (TryKeyword("unknown"))
            {
                return Location.Unknown;
            }

            if (TryKeyword("callsite"))
            {
                ExpectPunct("(", "after 'callsite'");
                var callee = ParseLocationBody();
                ExpectKeyword("at", "in callsite location");
                var caller = ParseLocationBody();
                ExpectPunct(")", "to close callsite location");
                return new CallSiteLoc(callee, caller);
            }

            var s = ParseString("as location");
            if (TryPunct(":"))
            {
                int line = checked((int)ParseInteger("as line number"));
                ExpectPunct(":", "between line and column");
                int col = checked((int)ParseInteger("as column number"));
                return new FileLineColLoc(s, line, col);
            }

            if (TryPunct("("))
            {
                var child = ParseLocationBody();
                ExpectPunct(")", "to close name location");
                return new NameLoc(s, child);
            }

            return new NameLoc(s);
        }
        finally
        {
            Leave();
        }
    }
}
