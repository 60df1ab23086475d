"""Times the official segment_anything PromptEncoder + MaskDecoder (weights from a SAM checkpoint) for
bench_decoder, on the same prompt cases.

Usage: bench_decoder_torch.py CHECKPOINT THREADS REPS. Prints one JSON line: {case: [seconds per run], ...}.
"""
import json
import sys
import time

import torch
from segment_anything.modeling import MaskDecoder, PromptEncoder, TwoWayTransformer


def main(checkpoint, threads, reps):
    torch.set_num_threads(threads)
    state = torch.load(checkpoint, map_location="cpu")
    pe = PromptEncoder(embed_dim=256, image_embedding_size=(64, 64), input_image_size=(1024, 1024), mask_in_chans=16)
    md = MaskDecoder(num_multimask_outputs=3,
                     transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8),
                     transformer_dim=256, iou_head_depth=3, iou_head_hidden_dim=256)
    pe.load_state_dict({k[15:]: v for k, v in state.items() if k.startswith("prompt_encoder.")})
    md.load_state_dict({k[13:]: v for k, v in state.items() if k.startswith("mask_decoder.")})
    pe.eval(), md.eval()
    torch.manual_seed(0)
    emb = torch.randn(1, 256, 64, 64) * 0.3
    pts = (torch.tensor([[[500.0, 400.0], [520.0, 380.0]]]), torch.tensor([[1.0, 0.0]]))
    box = torch.tensor([[300.0, 280.0, 700.0, 650.0]])
    mask = torch.randn(1, 1, 256, 256)
    cases = {
        "points, multimask": (pts, None, None, True),
        "box, single mask": (None, box, None, False),
        "box + points, single": (pts, box, None, False),
        "mask + points, single": (pts, None, mask, False),
    }
    out = {}
    with torch.no_grad():
        for name, (p, b, m, multi) in cases.items():
            times = []
            for _ in range(reps + 1):  # the first run warms up
                t0 = time.perf_counter()
                sparse, dense = pe(points=p, boxes=b, masks=m)
                md(image_embeddings=emb, image_pe=pe.get_dense_pe(), sparse_prompt_embeddings=sparse,
                   dense_prompt_embeddings=dense, multimask_output=multi)
                times.append(time.perf_counter() - t0)
            out[name] = times[1:]
        # Batches of one-point prompts on one image, as bench_decoder's: seconds per whole batch.
        for b in (1, 4, 16, 64):
            i = torch.arange(b, dtype=torch.float32)
            coords = torch.stack([64 + (i * 97) % 900, 64 + (i * 61) % 900], dim=1)[:, None, :]
            labels = torch.ones(b, 1)
            times = []
            for _ in range(max(3, reps * 4 // b) + 1):
                t0 = time.perf_counter()
                sparse, dense = pe(points=(coords, labels), boxes=None, masks=None)
                md(image_embeddings=emb, image_pe=pe.get_dense_pe(), sparse_prompt_embeddings=sparse,
                   dense_prompt_embeddings=dense, multimask_output=True)
                times.append(time.perf_counter() - t0)
            out[f"batch {b}"] = times[1:]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
