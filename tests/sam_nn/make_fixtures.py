"""Reference values for the nn ops, computed by PyTorch: writes <case>/<name>.npy files under the folder given
as the first argument. The C++ test (test_ops.cpp) runs each op on the same inputs with the same parameters."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(2)
out_root = sys.argv[1]


def save(case, **arrays):
    folder = os.path.join(out_root, case)
    os.makedirs(folder, exist_ok=True)
    for name, a in arrays.items():
        np.save(os.path.join(folder, name + ".npy"), a.detach().contiguous().numpy().astype(np.float32))


def r(*shape, scale=1.0):
    return torch.randn(*shape) * scale


# linear: plain, with relu, with gelu, without bias, 3-D input
x, w, b = r(2, 7, 96), r(80, 96, scale=0.1), r(80)
save("linear", x=x, w=w, b=b, y=F.linear(x, w, b))
save("linear_relu", x=x, w=w, b=b, y=F.relu(F.linear(x, w, b)))
save("linear_gelu", x=x, w=w, b=b, y=F.gelu(F.linear(x, w, b)))
save("linear_nobias", x=x, w=w, y=F.linear(x, w))
x = r(4096, 256)
w, b = r(128, 256, scale=0.06), r(128)
save("linear_big", x=x, w=w, b=b, y=F.linear(x, w, b))

# matmul: batched, transposed b, alpha, broadcast batch of b
a, bm = r(3, 5, 32), r(3, 32, 17)
save("matmul", a=a, b=bm, y=a @ bm)
bt = r(3, 17, 32)
save("matmul_tb_alpha", a=a, b=bt, y=(a @ bt.transpose(1, 2)) * 0.125)
a4, b2 = r(2, 4, 9, 16), r(16, 11)
save("matmul_broadcast", a=a4, b=b2, y=a4 @ b2)

# conv2d: plain with padding, stride, depthwise, relu post-op, no bias, single input channel
x = r(2, 8, 13, 11)
w, b = r(16, 8, 3, 3, scale=0.2), r(16)
save("conv", x=x, w=w, b=b, y=F.conv2d(x, w, b, stride=1, padding=1))
save("conv_s2_relu", x=x, w=w, b=b, y=F.relu(F.conv2d(x, w, b, stride=2, padding=1)))
wd = r(8, 1, 3, 3)
bd = r(8)
save("conv_depthwise", x=x, w=wd, b=bd, y=F.conv2d(x, wd, bd, stride=1, padding=1, groups=8))
wg = r(12, 4, 1, 1)
save("conv_groups_nobias_gelu", x=x, w=wg, y=F.gelu(F.conv2d(x, wg, None, groups=2)))
x1 = r(1, 1, 32, 32)
w1, b1 = r(4, 1, 2, 2), r(4)
save("conv_patch", x=x1, w=w1, b=b1, y=F.conv2d(x1, w1, b1, stride=2))

# conv_transpose2d as in SAM's output upscaling (kernel 2, stride 2) and an overlapping one
x = r(1, 32, 9, 7)
w, b = r(32, 8, 2, 2, scale=0.2), r(8)
save("deconv", x=x, w=w, b=b, y=F.conv_transpose2d(x, w, b, stride=2))
w3 = r(32, 6, 3, 3, scale=0.2)
save("deconv_k3_nobias", x=x, w=w3, y=F.conv_transpose2d(x, w3, None, stride=2))

# normalisations
x = r(3, 5, 64, scale=3.0) + 2.0
g, be = r(64), r(64)
save("layer_norm", x=x, g=g, b=be, y=F.layer_norm(x, (64,), g, be, 1e-5))
x = r(2, 24, 9, 13, scale=2.0) + 1.0
g, be = r(24), r(24)
u = x.mean(1, keepdim=True)
s = (x - u).pow(2).mean(1, keepdim=True)
save("layer_norm_2d", x=x, g=g, b=be, y=g[:, None, None] * ((x - u) / torch.sqrt(s + 1e-6)) + be[:, None, None])
mean, var = r(24), torch.rand(24) + 0.5
save("batch_norm_2d", x=x, g=g, b=be, mean=mean, var=var,
     y=F.batch_norm(x, mean, var, g, be, training=False, eps=1e-5))

# elementwise, softmax, additions
x = r(3, 1000, scale=3.0)
save("gelu", x=x, y=F.gelu(x))
save("relu", x=x, y=F.relu(x))
save("softmax", x=x.reshape(6, 500), y=torch.softmax(x.reshape(6, 500), dim=-1))
a, bb = r(4, 33), r(4, 33)
save("add", a=a, b=bb, y=a + bb)
x, bias = r(2, 5, 3, 4), r(5)
save("add_bias_nchw", x=x, b=bias, y=x + bias[None, :, None, None])

# layout and resizing
x = r(2, 3, 4, 5)
save("permute", x=x, y=x.permute(2, 0, 3, 1))
save("nchw_to_nhwc", x=x, y=x.permute(0, 2, 3, 1))
save("resize_up", x=x, y=F.interpolate(x, (11, 17), mode="bilinear", align_corners=False))
x = r(1, 2, 256, 256)
save("resize_1024", x=x, y=F.interpolate(x, (1024, 1024), mode="bilinear", align_corners=False))
save("resize_down", x=x, y=F.interpolate(x, (100, 37), mode="bilinear", align_corners=False))

# multi-head attention on projected q/k/v (SAM's Attention after the projections), and a fused deconv + GELU
def mha(q, k, v, heads):
    b, nq, c = q.shape
    split = lambda t: t.reshape(b, t.shape[1], heads, c // heads).transpose(1, 2)
    a = torch.softmax(split(q) @ split(k).permute(0, 1, 3, 2) / np.sqrt(c // heads), dim=-1)
    return (a @ split(v)).transpose(1, 2).reshape(b, nq, c)


q, k, v = r(2, 7, 128), r(2, 300, 128), r(2, 300, 128)
save("attention", q=q, k=k, v=v, y=mha(q, k, v, 8))
x = r(1, 32, 9, 7)
w, b = r(32, 8, 2, 2, scale=0.2), r(8)
save("deconv_gelu", x=x, w=w, b=b, y=F.gelu(F.conv_transpose2d(x, w, b, stride=2)))
