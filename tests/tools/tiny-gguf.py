#!/usr/bin/env python3
"""Writes a tiny GGUF model with random weights for the tests.

llama architecture, 2 layers, a byte-level SentencePiece vocabulary of
<unk>, <s>, </s> and the 256 <0xNN> byte tokens, so any text tokenises
through the byte fallback. It answers nonsense, quickly, through Ollama's
real engine. The weights come from a fixed seed: the same file every run.

    tiny-gguf.py OUT.gguf [--context 32768] [--seed 1]

Needs the `gguf` package (PyPI, pinned by tests/tools/install-gguf.sh).
"""
import argparse

import gguf
import numpy as np

EMBD = 64
HEADS = 4
FF = 128
LAYERS = 2


def vocabulary(words):
    tokens = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % i for i in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256
    scores = [0.0] * len(tokens)
    pieces = set()
    for word in words:
        for end in range(1, len(word) + 1):
            pieces.add("\u2581" + word[:end])
            if end >= 2:
                pieces.add(word[:end])
    for piece in sorted(pieces):
        tokens.append(piece.encode("utf-8"))
        types.append(gguf.TokenType.NORMAL)
        scores.append(float(len(piece)))
    return tokens, scores, types


def read_words(path):
    if path is None:
        return []
    with open(path, encoding="utf-8") as f:
        return [w.strip() for w in f if w.strip() and not w.startswith("#")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--context", type=int, default=32768)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--words")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    tokens, scores, types = vocabulary(read_words(args.words))
    vocab = len(tokens)

    writer = gguf.GGUFWriter(args.out, "llama")
    writer.add_name("privai-tiny")
    writer.add_context_length(args.context)
    writer.add_embedding_length(EMBD)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_rope_dimension_count(EMBD // HEADS)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    def weight(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def ones(n):
        return np.ones((n,), dtype=np.float32)

    writer.add_tensor("token_embd.weight", weight(vocab, EMBD))
    writer.add_tensor("output_norm.weight", ones(EMBD))
    writer.add_tensor("output.weight", weight(vocab, EMBD))
    for i in range(LAYERS):
        block = f"blk.{i}."
        writer.add_tensor(block + "attn_norm.weight", ones(EMBD))
        writer.add_tensor(block + "attn_q.weight", weight(EMBD, EMBD))
        writer.add_tensor(block + "attn_k.weight", weight(EMBD, EMBD))
        writer.add_tensor(block + "attn_v.weight", weight(EMBD, EMBD))
        writer.add_tensor(block + "attn_output.weight", weight(EMBD, EMBD))
        writer.add_tensor(block + "ffn_norm.weight", ones(EMBD))
        writer.add_tensor(block + "ffn_gate.weight", weight(FF, EMBD))
        writer.add_tensor(block + "ffn_up.weight", weight(FF, EMBD))
        writer.add_tensor(block + "ffn_down.weight", weight(EMBD, FF))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
