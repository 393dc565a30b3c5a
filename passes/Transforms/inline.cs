using QuikGraph;
using QuikGraph.Algorithms;
using Tessera.Dialects;

namespace Tessera.Passes.Transforms;

/// <summary>
/// Inlines <c>func.call</c> to single-block <c>func.func</c> bodies of the same module.
/// Why: calls hide their arguments' constant values and shapes from every intra-function pass; inlining
/// small functions lets canonicalize and cse work across the call boundary. Callees are processed bottom-up
/// over the call graph's condensation, so a callee is already flat when it is copied; functions in a
/// recursive strongly connected component (including self-recursion) are never inlined. The callee is kept;
/// symbol-dce removes it once it is unused and private.
/// </summary>
public sealed class InlinePass : Pass
{
    public override string Flag => "inline";

    public override string Summary => "inlines calls to single-block functions, bottom-up over the call graph";

    public override PassResult Run(Operation op, PassContext context)
    {
        if (!op.HasTrait(OpTraits.SymbolTable))
        {
            return PassResult.Unchanged;
        }

        var funcs = op.Regions.SelectMany(r => r.Operations)
            .Where(o => o.Name == FuncDialect.Func.Name && SymbolTable.GetName(o) is not null).ToList();
        var byName = new Dictionary<string, Operation>(StringComparer.Ordinal);
        foreach (var f in funcs)
        {
            byName.TryAdd(SymbolTable.GetName(f)!, f);
        }

        var graph = BuildCallGraph(funcs, byName);
        var components = new Dictionary<string, int>(StringComparer.Ordinal);
        graph.StronglyConnectedComponents(components);
        var recursive = RecursiveFunctions(graph, components);

        int inlined = 0;
        foreach (var name in BottomUpOrder(graph, components))
        {
            var caller = byName[name];
            var calls = caller.Walk().Where(o => o.Name == FuncDialect.Call.Name).ToList();
            foreach (var call in calls)
            {
                if (call.GetAttr<SymbolRefAttr>(FuncDialect.CalleeAttr) is not { Nested.Count: 0 } callee ||
                    !byName.TryGetValue(callee.Root, out var target) || recursive.Contains(callee.Root))
                {
                    continue;
                }

                if (target.Regions.Count != 1 || target.Regions[0].Blocks.Count != 1)
                {
                    Count(target.Regions.Count == 1 && target.Regions[0].Blocks.Count > 1 ? "not-inlined-multi-block" : "not-inlined-no-body");
                    continue;
                }

                if (TryInlineCall(context.Context, call, target))
                {
                    inlined++;
                }
            }
        }

        Count("num-inlined", inlined);
        return inlined > 0 ? PassResult.Changed : PassResult.Unchanged;
    }

    /// <summary>The call graph over function names, vertices in module order, one edge per distinct caller/callee pair.</summary>
    public static AdjacencyGraph<string, Edge<string>> BuildCallGraph(IReadOnlyList<Operation> funcs, IReadOnlyDictionary<string, Operation> byName)
    {
        var graph = new AdjacencyGraph<string, Edge<string>>(allowParallelEdges: false);
        foreach (var f in funcs)
        {
            graph.AddVertex(SymbolTable.GetName(f)!);
        }

        foreach (var f in funcs)
        {
            var from = SymbolTable.GetName(f)!;
            foreach (var call in f.Walk().Where(o => o.Name == FuncDialect.Call.Name))
            {
                if (call.GetAttr<SymbolRefAttr>(FuncDialect.CalleeAttr) is { Nested.Count: 0 } c && byName.ContainsKey(c.Root) &&
                    !graph.ContainsEdge(from, c.Root))
                {
                    graph.AddEdge(new Edge<string>(from, c.Root));
                }
            }
        }

        return graph;
    }

    /// <summary>Functions in an SCC of more than one function, or calling themselves.</summary>
    private static HashSet<string> RecursiveFunctions(AdjacencyGraph<string, Edge<string>> graph, Dictionary<string, int> components)
    {
        var sizes = components.Values.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        return graph.Vertices.Where(v => sizes[components[v]] > 1 || graph.ContainsEdge(v, v)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Functions ordered callees first: a reverse topological order of the condensation, computed with Kahn's
    /// algorithm where ties go to the component whose first function comes first in the module.
    /// </summary>
    public static List<string> BottomUpOrder(AdjacencyGraph<string, Edge<string>> graph, IReadOnlyDictionary<string, int> components)
    {
        var vertices = graph.Vertices.ToList();
        var members = new SortedDictionary<int, List<string>>();
        var firstIndex = new Dictionary<int, int>();
        for (int i = 0; i < vertices.Count; i++)
        {
            int c = components[vertices[i]];
            if (!members.TryGetValue(c, out var list))
            {
                members[c] = list = [];
                firstIndex[c] = i;
            }

            list.Add(vertices[i]);
        }

        // pending[c] = number of distinct callee components not yet emitted; callers[c] = components calling c.
        var pending = members.Keys.ToDictionary(c => c, _ => 0);
        var callers = members.Keys.ToDictionary(c => c, _ => new SortedSet<int>());
        foreach (var e in graph.Edges)
        {
            int from = components[e.Source], to = components[e.Target];
            if (from != to && callers[to].Add(from))
            {
                pending[from]++;
            }
        }

        var ready = new SortedSet<(int First, int Component)>(members.Keys.Where(c => pending[c] == 0).Select(c => (firstIndex[c], c)));
        var order = new List<string>();
        while (ready.Count > 0)
        {
            var next = ready.Min;
            ready.Remove(next);
            order.AddRange(members[next.Component]);
            foreach (int caller in callers[next.Component])
            {
                if (--pending[caller] == 0)
                {
                    ready.Add((firstIndex[caller], caller));
                }
            }
        }

        return order;
    }

    /// <summary>
    /// Replaces <paramref name="call"/> with a copy of <paramref name="callee"/>'s single-block body. Returns false,
    /// changing nothing, if the body does not end in func.return or the signatures disagree.
    /// </summary>
    public static bool TryInlineCall(Context ctx, Operation call, Operation callee)
    {
        var body = callee.Regions[0].Blocks[0];
        if (body.Last is not { Name: "func.return" } ret || body.Arguments.Count != call.NumOperands || ret.NumOperands != call.NumResults ||
            call.OpOperands.Any(o => o.Value is null) || ret.OpOperands.Any(o => o.Value is null) ||
            !body.Arguments.Select(a => a.Type).SequenceEqual(call.Operands.Select(v => v!.Type)) ||
            !ret.Operands.Select(v => v!.Type).SequenceEqual(call.Results.Select(r => r.Type)))
        {
            return false;
        }

        var map = new IRMapping();
        for (int i = 0; i < body.Arguments.Count; i++)
        {
            map.Map(body.Arguments[i], call.Operand(i));
        }

        var block = call.ParentBlock!;
        foreach (var op in body.Operations)
        {
            if (ReferenceEquals(op, ret))
            {
                break;
            }

            var clone = op.Clone(ctx, map);
            foreach (var (src, dst) in op.Walk().Zip(clone.Walk()))
            {
                dst.Location = new CallSiteLoc(src.Location, call.Location);
            }

            block.InsertBefore(call, clone);
        }

        for (int i = 0; i < call.NumResults; i++)
        {
            call.Result(i).ReplaceAllUsesWith(map.Lookup(ret.Operand(i)));
        }

        call.Erase();
        return true;
    }
}
