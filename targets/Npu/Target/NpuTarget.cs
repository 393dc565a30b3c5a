namespace Tessera.Npu.Target;

/// <summary>The machine, as one target description file states it. Nothing about the machine lives anywhere else.</summary>
public sealed record NpuTarget
{
    public required string Name { get; init; }
    public required decimal ClockGHz { get; init; }
    public required int MatrixRows { get; init; }
    public required int MatrixCols { get; init; }
    public required int FloatRateDivisor { get; init; }
    public required int WeightLoadCyclesPerRow { get; init; }
    public required int DrainCyclesPerRow { get; init; }
    public required int VectorLanes { get; init; }
    public required int VectorStartupCycles { get; init; }
    public required int VectorSimpleOpCycles { get; init; }
    public required int VectorTranscendentalOpCycles { get; init; }
    public required long SramBytes { get; init; }
    public required int SramBanks { get; init; }
    public required long AccumulatorBytes { get; init; }
    public required long DramBytes { get; init; }
    public required decimal DmaBandwidthGBps { get; init; }
    public required int DmaLatencyCycles { get; init; }
    public required int DmaDescriptors { get; init; }
    public required int Semaphores { get; init; }

    /// <summary>The file's text, kept verbatim so a bundle can carry the exact description it was built for.</summary>
    public required string Json { get; init; }

    /// <summary>Accumulator rows: each row holds <see cref="MatrixCols"/> 32-bit values.</summary>
    public long AccumulatorRows => AccumulatorBytes / (4L * MatrixCols);

    /// <summary>Cycles a DMA transfer of <paramref name="bytes"/> DRAM bytes takes: latency + ceil(bytes × clock / bandwidth).</summary>
    public long DmaCycles(long bytes) => DmaLatencyCycles + (long)Math.Ceiling(bytes * ClockGHz / DmaBandwidthGBps);
}
