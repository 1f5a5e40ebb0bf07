"""PyTorch side of the interop tests (test/interop/*.test.ts): real torch and torchvision.

  torch_check.py export-embeddings DIR WEIGHTS PIXELS.npy OUT.npy
      Loads WEIGHTS (written by `looktwice model export`) with the looktwice_resnet.py written
      beside it, embeds PIXELS (uint8 [N, S, S, 3]) and saves the L2-normalised h to OUT.npy.
      For a resnet18 card it also loads the weights strictly into torchvision.models.resnet18
      (fc removed; CIFAR stem patched in when the card says so): the names and shapes are
      torchvision's own.
  torch_check.py make-resnet18 OUT.safetensors PIXELS.npy OUT.npy LAYOUT
      Makes a torchvision resnet18 (seeded weights, non-trivial batch-norm statistics), writes its
      state dict as safetensors by hand (no safetensors package on Debian) in LAYOUT
      (torchvision: its own names incl. fc; lightly: backbone = nn.Sequential(children[:-1]);
      module: DataParallel's module. prefix), and saves the L2-normalised h of PIXELS under
      ImageNet normalisation, as torchvision models expect.
Prints one JSON line.
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision


def normalised(h):
    h = h.double()
    return (h / h.norm(dim=1, keepdim=True).clamp_min(1e-12)).float()


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.int64:
            data, dtype = t.numpy().astype("<i8").tobytes(), "I64"
        else:
            data, dtype = t.float().numpy().astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def export_embeddings(folder, weights, pixels_path, out_path):
    sys.path.insert(0, folder)
    from looktwice_resnet import load_encoder, preprocess

    model = load_encoder(weights)
    pixels = np.load(pixels_path)
    with torch.no_grad():
        h = model(preprocess(pixels, model.card))
    np.save(out_path, normalised(h).numpy())
    result = {"n": int(h.shape[0]), "dim": int(h.shape[1]), "arch": model.card["arch"], "torchvision_strict": None}
    if model.card["arch"] == "resnet18":
        tv = torchvision.models.resnet18()
        tv.fc = torch.nn.Identity()
        if model.card["stem"] == "cifar":
            tv.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            tv.maxpool = torch.nn.Identity()
        from looktwice_resnet import read_safetensors

        tensors, _ = read_safetensors(weights)
        tv.load_state_dict(tensors, strict=True)
        result["torchvision_strict"] = True
    print(json.dumps(result))


def make_resnet18(out_weights, pixels_path, out_path, layout):
    torch.manual_seed(7)
    model = torchvision.models.resnet18()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.num_batches_tracked.fill_(1000)
    model.eval()
    state = model.state_dict()
    if layout == "lightly":
        backbone = torch.nn.Sequential(*list(model.children())[:-1])
        state = {f"backbone.{k}": v for k, v in backbone.state_dict().items()}
        state["projection_head.layer.0.weight"] = torch.randn(128, 512)
    elif layout == "module":
        state = {f"module.{k}": v for k, v in state.items()}
    write_safetensors(out_weights, state)
    pixels = torch.from_numpy(np.load(pixels_path)).float() / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406])
    std = torch.tensor([0.229, 0.224, 0.225])
    x = ((pixels - mean) / std).permute(0, 3, 1, 2).contiguous()
    model.fc = torch.nn.Identity()
    with torch.no_grad():
        h = model(x)
    np.save(out_path, normalised(h).numpy())
    print(json.dumps({"n": int(h.shape[0]), "dim": int(h.shape[1]), "tensors": len(state)}))


if __name__ == "__main__":
    torch.set_num_threads(1)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "export-embeddings":
        export_embeddings(*args)
    elif command == "make-resnet18":
        make_resnet18(*args)
    else:
        raise SystemExit(f"unknown command {command}")
