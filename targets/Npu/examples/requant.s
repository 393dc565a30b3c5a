; A requantize chain: int32 accumulators -> int8 (scale 0.0123, zero point -5) -> int8 rescaled (x+5)*0.7+10 -> fp32.
; Also exercises int4 unpack on load: the 64 int4 weights w are widened to int8 and added (as int32) nowhere else;
; they are stored back as int8 so the test can check the unpack.
.target e1
.desc 0 dims=1,1,256 dram_strides=0,0,1 sram_strides=0,0,1 elem=1
.desc 1 dims=1,1,64 dram_strides=0,0,1 sram_strides=0,0,1 elem=1
.desc 2 dims=1,4,16 dram_strides=0,8,0 sram_strides=0,16,1 elem=1 unpack_int4
.desc 3 dims=1,1,256 dram_strides=0,0,1 sram_strides=0,0,1 elem=1
.tensor acc input dram=0x0 shape=64 type=i32
.tensor w4 input dram=0x400 shape=4,16 type=i4
.tensor q2 output dram=0x800 shape=64 type=i8
.tensor w8 output dram=0xc00 shape=4,16 type=i8
.tensor f output dram=0x1000 shape=64 type=f32
dma.load desc=0 sram=0x0 dram=0x0 signal=1
dma.load desc=2 sram=0x800 dram=0x400 signal=2
v.qcfg mult=1690421584 shift=37 zp_out=-5 wait=1
v.requant dst=0x100 a=0x0 n=64                 ; q1 = requant(acc), i32 -> i8
v.qcfg mult=1503238554 shift=31 zp_in=-5 zp_out=10
v.requant dst=0x200 a=0x100 n=64 from=i8       ; q2 = requant(q1), i8 -> i8
v.cvt dst=0x300 a=0x200 n=64 from=i8 to=f32 signal=3
dma.store desc=1 sram=0x200 dram=0x800 wait=3
dma.store desc=3 sram=0x300 dram=0x1000
dma.store desc=1 sram=0x800 dram=0xc00 wait=2
end
