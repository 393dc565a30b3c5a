; Softmax of one row of 256 fp32 values on the vector unit: y = exp(x - max x) / sum exp(x - max x).
; Semaphore 1 = "row loaded", 2 = "result ready".
.target e1
.desc 0 dims=1,1,1024 dram_strides=0,0,1 sram_strides=0,0,1 elem=1
.tensor x input dram=0x0 shape=256 type=f32
.tensor y output dram=0x1000 shape=256 type=f32
dma.load desc=0 sram=0x0 dram=0x0 signal=1
v.rmax dst=0x1000 a=0x0 n=256 wait=1          ; m = max(x)
v.sub dst=0x400 a=0x0 b=0x1000 n=256 bcast=1   ; x - m
v.exp dst=0x400 a=0x400 n=256
v.rsum dst=0x1004 a=0x400 n=256                ; s = sum
v.recip dst=0x1008 a=0x1004 n=1                ; 1/s
v.mul dst=0x800 a=0x400 b=0x1008 n=256 bcast=1 signal=2
dma.store desc=0 sram=0x800 dram=0x1000 wait=2
end
