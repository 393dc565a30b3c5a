; Tiled int8 GEMM on e1: C[64x128] = requant(A[64x128] . B[128x128]), per-tensor requantize to int8.
; A is loaded once, re-blocked by a 3-D descriptor into four 64x32 column blocks. B streams in 32x32 tiles through a
; double buffer (ping 0x2000, pong 0x2400): semaphore 1 = "tile loaded", 2 = "buffer free" (posted twice up front),
; 3 = "A loaded", 4 = "C column block drained".
.target e1
.desc 0 dims=4,64,32 dram_strides=32,128,1 sram_strides=2048,32,1 elem=1
.desc 1 dims=1,32,32 dram_strides=0,128,1 sram_strides=0,32,1 elem=1
.desc 2 dims=1,64,32 dram_strides=0,128,1 sram_strides=0,128,1 elem=1
.tensor A input dram=0x0 shape=64,128 type=i8
.tensor B weight dram=0x2000 shape=128,128 type=i8
.tensor C output dram=0x6000 shape=64,128 type=i8
.entry main
sem.post sem=2 count=2
dma.load desc=0 sram=0x0 dram=0x0 signal=3
mm.qcfg mult=1518500250 shift=42 zp_out=3 wait=3
set rd=r2 imm=8192          ; B column block n*32
set rd=r3 imm=12288         ; C column block in SRAM
set rd=r4 imm=24576         ; C column block in DRAM
loop count=4
  addi rd=r1 rs=r2 imm=0
  dma.load desc=1 sram=0x2000 dram=r1 wait=2 signal=1
  addi rd=r1 rs=r1 imm=4096
  dma.load desc=1 sram=0x2400 dram=r1 wait=2 signal=1
  mm.ldw src=0x2000 k=32 n=32 wait=1 signal=2
  mm.mac src=0x0 acc=0x0 m=64 k=32
  mm.ldw src=0x2400 k=32 n=32 wait=1 signal=2
  mm.mac src=0x800 acc=0x0 m=64 k=32 accumulate=1
  addi rd=r1 rs=r1 imm=4096
  dma.load desc=1 sram=0x2000 dram=r1 wait=2 signal=1
  addi rd=r1 rs=r1 imm=4096
  dma.load desc=1 sram=0x2400 dram=r1 wait=2 signal=1
  mm.ldw src=0x2000 k=32 n=32 wait=1 signal=2
  mm.mac src=0x1000 acc=0x0 m=64 k=32 accumulate=1
  mm.ldw src=0x2400 k=32 n=32 wait=1 signal=2
  mm.mac src=0x1800 acc=0x0 m=64 k=32 accumulate=1
  mm.drain acc=0x0 dst=r3 m=64 n=32 stride=128 mode=i8 signal=4
  dma.store desc=2 sram=r3 dram=r4 wait=4
  addi rd=r2 rs=r2 imm=32
  addi rd=r3 rs=r3 imm=32
  addi rd=r4 rs=r4 imm=32
endloop
end
