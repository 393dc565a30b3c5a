using System.Globalization;
using System.Text;

namespace Tessera.IR.Passes;

/// <summary>Hooks called by the <see cref="PassManager"/> around each pass run on each anchored op.</summary>
public abstract class PassInstrumentation
{
    public virtual void RunBeforePass(Pass pass, Operation op) { }

    /// <summary>After a pass that succeeded (before the verifier runs).</summary>
    public virtual void RunAfterPass(Pass pass, Operation op, PassResult result) { }

    /// <summary>After a pass that returned Failed or reported errors (not after a crash).</summary>
    public virtual void RunAfterPassFailed(Pass pass, Operation op) { }

    /// <summary><c>func.func @main</c>: the op name and its <c>sym_name</c>, if any.</summary>
    public static string Describe(Operation op) =>
        op.GetAttr<StringAttr>(SymbolTable.SymNameAttr) is { } name ? $"{op.Name} {AttributePrinter.SymbolName(name.Value)}" : op.Name;
}

/// <summary>The IR printing options of <see cref="PassManager"/>: <c>--print-ir-before/after...</c>.</summary>
internal sealed class IrPrinterInstrumentation(PassManager pm, Func<Operation> root) : PassInstrumentation
{
    public override void RunBeforePass(Pass pass, Operation op)
    {
        if (pm.PrintIrBefore.Contains(pass.Flag) || pm.PrintIrBeforeAll)
        {
            Dump("Before", pass, op);
        }
    }

    public override void RunAfterPass(Pass pass, Operation op, PassResult result)
    {
        if (pm.PrintIrAfterAll || pm.PrintIrAfter.Contains(pass.Flag) || (pm.PrintIrAfterChange && result == PassResult.Changed))
        {
            Dump("After", pass, op);
        }
    }

    public override void RunAfterPassFailed(Pass pass, Operation op)
    {
        if (pm.PrintIrAfterFailure)
        {
            Dump("After", pass, op, " Failed");
        }
    }

    private void Dump(string when, Pass pass, Operation op, string failed = "")
    {
        var target = pm.PrintIrModuleScope ? root() : op;
        var w = pm.Output;
        w.Write($"// -----// IR Dump {when} {pass.Flag}{failed} on {Describe(op)} //----- //\n");
        w.Write(Printer.PrintOp(target, pm.IrPrintOptions));
        w.Write('\n');
    }
}

/// <summary>Per pipeline position: what it is and its accumulated time.</summary>
internal sealed class PipelineSlot(string label, Pass? pass)
{
    public string Label { get; } = label;
    public Pass? Pass { get; } = pass;
    public long Ticks { get; set; }
}

/// <summary>The timing and statistics reports, both in pipeline order.</summary>
internal static class PassReports
{
    /// <summary>Lists every position of the pipeline in pre-order; <paramref name="baseSlot"/> maps a manager to its first item's slot.</summary>
    public static List<PipelineSlot> Slots(OpPassManager root, Dictionary<OpPassManager, int> baseSlot)
    {
        var slots = new List<PipelineSlot>();
        AddSlots(root, slots, baseSlot);
        return slots;
    }

    // Recursion follows the pipeline's nesting, which Validate caps at OpPassManager.MaxNesting.
    private static void AddSlots(OpPassManager pm, List<PipelineSlot> slots, Dictionary<OpPassManager, int> baseSlot)
    {
        var mine = new List<PipelineSlot>();
        foreach (var item in pm.Items)
        {
            mine.Add(item.Pass is { } p
                ? new PipelineSlot(OpPassManager.FormatPass(p), p)
                : new PipelineSlot($"'{item.Nested!.Anchor}' pipeline", null));
        }

        // Items of one manager get consecutive slots so slot = base + index; nested items follow them.
        baseSlot.TryAdd(pm, slots.Count);
        slots.AddRange(mine);
        foreach (var item in pm.Items)
        {
            if (item.Nested is { } n)
            {
                AddSlots(n, slots, baseSlot);
            }
        }
    }

    public static string Timing(OpPassManager root, List<PipelineSlot> slots, Dictionary<OpPassManager, int> baseSlot,
        long verifierTicks, long totalTicks, long frequency)
    {
        var sb = new StringBuilder();
        double total = Math.Max(totalTicks, 1);
        string Ms(long t) => (t * 1000.0 / frequency).ToString("F3", CultureInfo.InvariantCulture).PadLeft(10);
        string Pct(long t) => (t * 100.0 / total).ToString("F1", CultureInfo.InvariantCulture).PadLeft(6);
        sb.Append("===- Pass execution timing report -===\n");
        sb.Append("   wall ms      %  pass\n");
        Rows(root, 0, slots, baseSlot, (slot, depth) =>
            sb.Append(Ms(slot.Ticks)).Append(' ').Append(Pct(slot.Ticks)).Append("%  ").Append(' ', 2 * depth).Append(slot.Label).Append('\n'));
        sb.Append(Ms(verifierTicks)).Append(' ').Append(Pct(verifierTicks)).Append("%  (verifier)\n");
        sb.Append(Ms(totalTicks)).Append(' ').Append(Pct(totalTicks)).Append("%  total\n");
        return sb.ToString();
    }

    public static string Statistics(OpPassManager root, List<PipelineSlot> slots, Dictionary<OpPassManager, int> baseSlot)
    {
        var sb = new StringBuilder();
        sb.Append("===- Pass statistics report -===\n");
        sb.Append('\'').Append(root.Anchor).Append("' pipeline\n");
        Rows(root, 1, slots, baseSlot, (slot, depth) =>
        {
            if (slot.Pass is null)
            {
                sb.Append(' ', 2 * depth).Append(slot.Label).Append('\n');
                return;
            }

            foreach (var (name, value) in slot.Pass.Statistics)
            {
                sb.Append(' ', 2 * depth).Append(slot.Pass.Flag).Append(": ").Append(name).Append(" = ")
                    .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        });
        return sb.ToString();
    }

    /// <summary>Visits positions in pipeline order, each nested manager's items right after its own row.</summary>
    private static void Rows(OpPassManager pm, int depth, List<PipelineSlot> slots, Dictionary<OpPassManager, int> baseSlot,
        Action<PipelineSlot, int> row)
    {
        int b = baseSlot[pm];
        for (int i = 0; i < pm.Items.Count; i++)
        {
            row(slots[b + i], depth);
            if (pm.Items[i].Nested is { } n)
            {
                Rows(n, depth + 1, slots, baseSlot, row);
            }
        }
    }
}
