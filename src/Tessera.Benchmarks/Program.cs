using BenchmarkDotNet.Running;

// dotnet run -c Release --project src/Tessera.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Tessera.Benchmarks.ChainBenchmarks).Assembly).Run(args);
