#!/usr/bin/env bash
# The NPU benchmark of issue 6 (docs/npu/lowering.md § Benchmark): a synthetic GGUF model with Qwen2.5-0.5B's dimensions,
# compiled for e1 (prefill at seq 128, one decode step at context 512), simulated, with compile wall time, peak memory and
# the roofline totals (floor cycles / simulated cycles).
#
#   src/Tessera.Benchmarks/npu-qwen.sh [--layers N] [--vocab V] [--out DIR] [--full-sim]
#
# --full-sim also runs the bit-exact simulation of the prefill (minutes for 24 layers); by default the bundles are run
# timing-only, which gives the same cycle counts (tests/Tessera.Tests/Npu/SimulatorScaleTests.cs checks that).
# TESSERA=path/to/tessera uses a prebuilt CLI (e.g. a self-contained publish) instead of building one.
# Wall times depend on the machine: run it under `taskset -c 0,1` to measure on 2 cores.
set -euo pipefail

layers=24 vocab=151936 out=/tmp/tessera-npu-qwen full=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --layers) layers=$2; shift 2 ;;
        --vocab) vocab=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --full-sim) full=1; shift ;;
        *) echo "usage: $0 [--layers N] [--vocab V] [--out DIR] [--full-sim]" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ -n "${TESSERA:-}" ]]; then
    tessera=("$TESSERA")
else
    dotnet build "$root/src/Tessera.Cli" -c Release -v quiet -nologo >/dev/null
    tessera=(dotnet "$root/src/Tessera.Cli/bin/Release/net10.0/tessera.dll")
fi
mkdir -p "$out"
model="$out/qwen2-${layers}l-f16.gguf"

[[ -f "$model" ]] || "${tessera[@]}" gen --arch qwen2 --layers "$layers" --hidden 896 --heads 14 --kv-heads 2 \
    --intermediate 4864 --vocab "$vocab" --context 512 --type f16 -o "$model"

# Compiles one function with the roofline report, under /usr/bin/time (wall seconds, peak RSS in KiB).
compile() {
    local name=$1; shift
    rm -rf "$out/$name"
    /usr/bin/time -f "time %e %M %U %S" -o "$out/$name.time" "${tessera[@]}" compile "$model" --target npu --timing \
        -o "$out/$name" --report roofline "$@" >"$out/$name.txt" 2>"$out/$name.err"
    local phases roofline wall rss user sys
    phases=$(awk '/^phase (import|pipeline|lowering|bundle):/ { s += $3 } END { printf "%.1f", s }' "$out/$name.err")
    roofline=$(awk '/^phase roofline:/ { printf "%.1f", $3 }' "$out/$name.err")
    read -r _ wall rss user sys <"$out/$name.time"
    echo "$name: $(head -1 "$out/$name.txt")"
    echo "$name: compile ${phases} s (import + passes + lowering + bundle writing; process wall ${wall} s, CPU ${user} s user" \
        "+ ${sys} s sys, incl. the roofline's timing-only simulation ${roofline} s), peak RSS $((rss / 1024)) MiB"
    echo "$name: roofline total: $(grep '^total ' "$out/$name.txt" | awk '{ printf "MACs %s, DRAM bytes %s, floor %s cycles, simulated %s cycles, floor/sim %s", $2, $3, $4, $5, $6 }')"
}

simulate() {
    local name=$1; shift
    /usr/bin/time -f "time %e %M %U %S" -o "$out/$name.sim.time" "${tessera[@]}" sim "$out/$name" "$@" >"$out/$name.sim.txt"
    local wall rss user sys
    read -r _ wall rss user sys <"$out/$name.sim.time"
    echo "$name: tessera sim $* : ${wall} s wall, CPU ${user} s user + ${sys} s sys, peak RSS $((rss / 1024)) MiB"
    sed "s/^/$name:   /" "$out/$name.sim.txt"
}

echo "model: $model ($layers layers, hidden 896, 14 heads, 2 KV heads, intermediate 4864, vocab $vocab, context 512, f16)"
compile prefill --dims seq=128
compile decode --function decode
simulate prefill --timing-only
simulate decode --timing-only
if [[ $full == 1 ]]; then
    simulate prefill
fi
