"""Writes the checkpoint-reader fixtures into OUT_DIR: small torch.save checkpoints, the values the C++ reader
must return for them (.npy, float32, under <name>.expected/) and broken files. Run with Debian's
/usr/bin/python3 (torch 1.13); PYTHONPATH must hold segment_anything and mobile_sam (scripts/setup_reference.sh).

  make_fixtures.py OUT_DIR            the test fixtures
  make_fixtures.py --large FILE MB    one synthetic checkpoint of about MB megabytes (load-time benchmark)
"""
import collections
import io
import json
import os
import pickle
import sys
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import torch


def save_expected(out: Path, name: str, sd: dict) -> None:
    """torch.saves `sd` as NAME.pt and each tensor's float32 values as NAME.expected/KEY.npy."""
    torch.save(sd, out / f"{name}.pt")
    exp = out / f"{name}.expected"
    exp.mkdir(exist_ok=True)
    for k, v in sd.items():
        np.save(exp / f"{k}.npy", np.array(v.detach().float().numpy(), order="C"))
    (exp / "keys.json").write_text(json.dumps({k: list(v.shape) for k, v in sd.items()}))


def tensors_dict() -> "collections.OrderedDict[str, torch.Tensor]":
    """Several dtypes, layouts and storage sharing patterns."""
    shared = torch.randn(100)
    sd = collections.OrderedDict()
    sd["f32_vector"] = torch.randn(7)
    sd["f32_4d"] = torch.randn(2, 3, 4, 5)
    sd["f32_scalar"] = torch.tensor(3.5)
    sd["f32_empty"] = torch.zeros(0, 3)
    sd["f16"] = torch.randn(3, 5).half()
    sd["f16_special"] = torch.tensor([0.0, -0.0, 1e-7, -6e-8, 65504.0, float("inf"), -float("inf"), 1.0 / 3]).half()
    sd["bf16"] = torch.randn(4, 6).bfloat16()
    sd["f64"] = torch.randn(3, 2).double()
    sd["i64"] = torch.arange(-3, 5)
    sd["u8"] = torch.arange(0, 250, 10, dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["transposed"] = torch.randn(4, 6).t()                       # strides (1, 6)
    sd["f16_permuted"] = torch.randn(2, 3, 4).half().permute(2, 0, 1)
    sd["expanded"] = torch.randn(3, 1).expand(3, 4)                # stride 0
    sd["shared_a"] = shared[10:40].view(5, 6)                      # same storage, offset 10
    sd["shared_b"] = shared[50:60]                                 # offset 50
    sd["shared_strided"] = shared[1::7]                            # offset 1, stride 7
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2))            # pickled via _rebuild_parameter
    return sd


def tiny_sam_vit():
    """The official SAM modules with a small ViT configuration (same code path as vit_b/l/h)."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer
    cfg = dict(embed_dim=48, depth=5, num_heads=3, global_attn_indexes=[1, 4], window_size=5, patch_size=8,
               img_size=128, mlp_ratio=2, out_chans=32, mask_in_chans=8, decoder_depth=3, decoder_mlp_dim=64,
               num_multimask_outputs=2, iou_head_depth=2, iou_head_hidden_dim=24)
    emb = cfg["img_size"] // cfg["patch_size"]
    sam = Sam(
        image_encoder=ImageEncoderViT(
            depth=cfg["depth"], embed_dim=cfg["embed_dim"], img_size=cfg["img_size"], mlp_ratio=cfg["mlp_ratio"],
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=cfg["num_heads"],
            patch_size=cfg["patch_size"], qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=cfg["global_attn_indexes"], window_size=cfg["window_size"],
            out_chans=cfg["out_chans"]),
        prompt_encoder=PromptEncoder(embed_dim=cfg["out_chans"], image_embedding_size=(emb, emb),
                                     input_image_size=(cfg["img_size"], cfg["img_size"]),
                                     mask_in_chans=cfg["mask_in_chans"]),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=cfg["num_multimask_outputs"],
            transformer=TwoWayTransformer(depth=cfg["decoder_depth"], embedding_dim=cfg["out_chans"],
                                          mlp_dim=cfg["decoder_mlp_dim"], num_heads=8),
            transformer_dim=cfg["out_chans"], iou_head_depth=cfg["iou_head_depth"],
            iou_head_hidden_dim=cfg["iou_head_hidden_dim"]))
    # Fresh modules have many constant tensors (zeros, ones): randomise so that every value is checked.
    with torch.no_grad():
        for p in sam.parameters():
            p.copy_(torch.randn_like(p))
    return sam, cfg


def tiny_mobile_sam():
    """MobileSAM's TinyViT with reduced depths (official dims, heads and windows) plus the SAM heads."""
    from mobile_sam.modeling import MaskDecoder, PromptEncoder, Sam, TinyViT, TwoWayTransformer
    cfg = dict(embed_dims=[64, 128, 160, 320], depths=[1, 2, 1, 1], num_heads=[2, 4, 5, 10],
               window_sizes=[7, 7, 14, 7])
    sam = Sam(
        image_encoder=TinyViT(img_size=1024, in_chans=3, num_classes=1000, embed_dims=cfg["embed_dims"],
                              depths=cfg["depths"], num_heads=cfg["num_heads"], window_sizes=cfg["window_sizes"],
                              mlp_ratio=4.0, drop_rate=0.0, drop_path_rate=0.0, mbconv_expand_ratio=4.0),
        prompt_encoder=PromptEncoder(embed_dim=256, image_embedding_size=(64, 64), input_image_size=(1024, 1024),
                                     mask_in_chans=16),
        mask_decoder=MaskDecoder(num_multimask_outputs=3,
                                 transformer=TwoWayTransformer(depth=1, embedding_dim=256, mlp_dim=128, num_heads=8),
                                 transformer_dim=256, iou_head_depth=3, iou_head_hidden_dim=256))
    return sam, cfg


OFFICIAL_VIT = {"vit_b": (768, 12, 12, [2, 5, 8, 11]), "vit_l": (1024, 24, 16, [5, 11, 17, 23]),
                "vit_h": (1280, 32, 16, [7, 15, 23, 31])}


def official_layout(model_type: str) -> "collections.OrderedDict[str, torch.Tensor]":
    """The keys and shapes of an official SAM checkpoint, from the official modules, without its 0.4-2.5 GB of
    weights: every tensor is a stride-0 view of one zero, which torch.save stores as such. The encoder is built
    with no blocks plus one global and one windowed block, copied to the block indexes (saves time and memory)."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, TwoWayTransformer
    from segment_anything.modeling.image_encoder import Block
    embed, depth, heads, global_idx = OFFICIAL_VIT[model_type]
    norm = partial(torch.nn.LayerNorm, eps=1e-6)
    parts = {
        "image_encoder": ImageEncoderViT(depth=0, embed_dim=embed, img_size=1024, mlp_ratio=4, norm_layer=norm,
                                         num_heads=heads, patch_size=16, qkv_bias=True, use_rel_pos=True,
                                         window_size=14, out_chans=256),
        "prompt_encoder": PromptEncoder(embed_dim=256, image_embedding_size=(64, 64), input_image_size=(1024, 1024),
                                        mask_in_chans=16),
        "mask_decoder": MaskDecoder(num_multimask_outputs=3, transformer=TwoWayTransformer(
            depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8), transformer_dim=256, iou_head_depth=3,
            iou_head_hidden_dim=256)}
    blocks = {w: Block(dim=embed, num_heads=heads, mlp_ratio=4, qkv_bias=True, norm_layer=norm, use_rel_pos=True,
                       window_size=w, input_size=(64, 64)).state_dict() for w in (0, 14)}
    zero = torch.zeros(1)
    layout = lambda t: zero.view([1] * t.dim()).expand(t.shape)
    sd = collections.OrderedDict()
    for name, module in parts.items():
        for k, v in module.state_dict().items():
            sd[f"{name}.{k}"] = layout(v)
    for i in range(depth):
        for k, v in blocks[0 if i in global_idx else 14].items():
            sd[f"image_encoder.blocks.{i}.{k}"] = layout(v)
    return sd


def write_zip(path: Path, entries: dict, compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def write_zip64(path: Path, entries: dict) -> None:
    """A stored zip in which every size and offset goes through the ZIP64 extensions (local and central extra
    fields, ZIP64 end record and locator), as for checkpoints over 4 GiB; Python's zipfile only does this when
    forced by size."""
    import struct
    import zlib
    out, central = bytearray(), bytearray()
    for name, data in entries.items():
        n, crc, offset = name.encode(), zlib.crc32(data), len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(n), 20)
        out += n + struct.pack("<HHQQ", 1, 16, len(data), len(data)) + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(n), 28, 0, 0, 0, 0, 0xFFFFFFFF)
        central += n + struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
    cd_offset, count = len(out), len(entries)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.write_bytes(bytes(out))


def rezip(src: Path, dst: Path, zip64: bool) -> None:
    """The same checkpoint entries in another container layout."""
    with zipfile.ZipFile(src) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    if zip64:
        write_zip64(dst, entries)
    else:  # Python's zipfile does not align entry data: float32 data may start at any byte
        write_zip(dst, entries)


class _Storage:
    """Stands for a torch storage in a hand-built pickle; pickled as a persistent id."""
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def hand_built(sd: dict) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(sd)
    return buf.getvalue()


def write_bad_files(out: Path) -> None:
    bad = out / "bad"
    bad.mkdir(exist_ok=True)
    small = collections.OrderedDict(w=torch.randn(4, 4), b=torch.randn(4))
    torch.save(small, bad / "legacy.pt", _use_new_zipfile_serialization=False)
    (bad / "not_zip.pt").write_bytes(b"this is not a checkpoint\n" * 10)
    (bad / "empty.pt").write_bytes(b"")
    floats = np.arange(16, dtype="<f4").tobytes()
    # os.system through GLOBAL + REDUCE: must be refused before anything could run.
    evil = b"\x80\x02}q\x00X\x01\x00\x00\x00xcos\nsystem\nq\x01X\x04\x00\x00\x00trueq\x02\x85q\x03Rq\x04s."
    write_zip(bad / "forbidden_global.pt", {"archive/data.pkl": evil, "archive/version": b"3\n"})
    # Protocol-0 INST opcode ('i'), outside the supported subset.
    write_zip(bad / "bad_opcode.pt", {"archive/data.pkl": b"\x80\x02(icollections\nOrderedDict\n.",
                                      "archive/version": b"3\n"})
    write_zip(bad / "no_data_pkl.pt", {"archive/version": b"3\n", "archive/data/0": floats})
    write_zip(bad / "compressed.pt", {"archive/data.pkl": hand_built({"w": _Tensor(_Storage("0", 16), 0, [16], [1])}),
                                      "archive/data/0": floats, "archive/version": b"3\n"}, zipfile.ZIP_DEFLATED)
    # A tensor reaching past the end of its storage (offset 10 + 8 elements > 16).
    write_zip(bad / "tensor_out_of_storage.pt",
              {"archive/data.pkl": hand_built({"w": _Tensor(_Storage("0", 16), 10, [8], [1])}),
               "archive/data/0": floats, "archive/version": b"3\n"})
    # A storage that claims more elements than its entry holds.
    write_zip(bad / "storage_too_small.pt",
              {"archive/data.pkl": hand_built({"w": _Tensor(_Storage("0", 64), 0, [64], [1])}),
               "archive/data/0": floats, "archive/version": b"3\n"})
    # Stride 0 over 16 stored floats, claiming 2^30 elements (4 GiB once copied).
    write_zip(bad / "expanded_too_far.pt",
              {"archive/data.pkl": hand_built({"w": _Tensor(_Storage("0", 16), 0, [1 << 20, 1 << 10], [0, 0])}),
               "archive/data/0": floats, "archive/version": b"3\n"})
    write_zip(bad / "missing_storage.pt",
              {"archive/data.pkl": hand_built({"w": _Tensor(_Storage("7", 16), 0, [16], [1])}),
               "archive/version": b"3\n"})
    # A valid hand-built file, to show the broken ones fail for the stated reason only.
    write_zip(bad / "hand_built_ok.pt",
              {"archive/data.pkl": hand_built({"w": _Tensor(_Storage("0", 16), 2, [3, 2], [4, 1])}),
               "archive/data/0": floats, "archive/version": b"3\n"})
    # Not a state_dict: a list at the top.
    torch.save([torch.randn(2)], bad / "list_top.pt")


def write_mobile_sam(out: Path) -> None:
    """Shapes of every tensor in the real MobileSAM checkpoint and the values of a few, as torch.load reads them."""
    src = os.environ.get("SAMMPA_MOBILE_SAM", "")
    if not src or not Path(src).is_file():
        sys.exit(f"error: SAMMPA_MOBILE_SAM unset or missing ({src!r}): cannot write the MobileSAM expectations "
                 "(scripts/test.sh sets it)")
    sd = torch.load(src, map_location="cpu")
    out.mkdir(parents=True, exist_ok=True)
    picks = ["image_encoder.patch_embed.seq.0.c.weight", "image_encoder.layers.1.blocks.0.attn.attention_biases",
             "image_encoder.layers.3.blocks.1.mlp.fc2.weight", "image_encoder.neck.2.weight",
             "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix", "mask_decoder.mask_tokens.weight",
             "mask_decoder.output_upscaling.0.weight", "image_encoder.patch_embed.seq.0.bn.num_batches_tracked"]
    for k in picks:
        np.save(out / f"{k}.npy", np.array(sd[k].float().numpy(), order="C"))
    summary = {"shapes": {k: list(v.shape) for k, v in sd.items()}, "values": picks}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))


def write_large(path: Path, megabytes: int) -> None:
    """A ViT-B-like checkpoint (float32 tensors of ViT-B's shapes, repeated to reach the size)."""
    torch.manual_seed(0)
    sd = collections.OrderedDict()
    total, i = 0, 0
    while total < megabytes * 2**20:
        for name, shape in [("qkv.weight", (2304, 768)), ("proj.weight", (768, 768)), ("lin1.weight", (3072, 768)),
                            ("lin2.weight", (768, 3072)), ("norm1.weight", (768,)), ("qkv.bias", (2304,))]:
            sd[f"blocks.{i}.{name}"] = torch.randn(shape)
            total += sd[f"blocks.{i}.{name}"].numel() * 4
        i += 1
    torch.save(sd, path)
    print(f"{path}: {len(sd)} tensors, {total / 2**20:.0f} MiB")


def main() -> None:
    if sys.argv[1] == "--large":
        write_large(Path(sys.argv[2]), int(sys.argv[3]))
        return
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    save_expected(out, "tensors", tensors_dict())
    rezip(out / "tensors.pt", out / "tensors_zip64.pt", zip64=True)
    rezip(out / "tensors.pt", out / "tensors_unaligned.pt", zip64=False)

    # A training checkpoint wrapping the state_dict, with optimizer state of plain Python values.
    model = collections.OrderedDict(w=torch.randn(3, 4), b=torch.randn(3))
    wrapped = {"epoch": 7, "optimizer": {"state": {}, "param_groups": [
        {"lr": 1e-4, "betas": (0.9, 0.999), "weight_decay": 0.0, "amsgrad": False, "params": [0, 1], "name": None}]},
        "model": model}
    torch.save(wrapped, out / "wrapped.pt")
    save_expected(out, "wrapped_model", model)
    torch.save(collections.OrderedDict((f"module.{k}", v) for k, v in model.items()), out / "data_parallel.pt")

    sam, cfg = tiny_sam_vit()
    save_expected(out, "tiny_sam_vit", sam.state_dict())
    (out / "tiny_sam_vit.config.json").write_text(json.dumps(cfg))
    half = collections.OrderedDict((k, v.half()) for k, v in sam.state_dict().items())
    save_expected(out, "tiny_sam_vit_half", half)

    for model_type in OFFICIAL_VIT:
        torch.save(official_layout(model_type), out / f"layout_{model_type}.pt")

    msam, mcfg = tiny_mobile_sam()
    torch.save(msam.state_dict(), out / "tiny_mobile_sam.pt")
    (out / "tiny_mobile_sam.config.json").write_text(json.dumps(mcfg))

    write_bad_files(out)
    write_mobile_sam(out / "mobile_sam")


if __name__ == "__main__":
    main()
