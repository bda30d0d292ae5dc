"""One backward pass into the word-embedding table per optimiser step, however many micro-batches it has.

The backward pass of an embedding lookup writes a gradient the size of the
whole vocabulary table (30,522 × 384 floats for all-MiniLM-L6-v2, 250,002 × 768
for XLM-R), freshly allocated and zero-filled, for every micro-batch, and adds
it to the previous one. On a CPU that is a tenth or more of a step cut into
three micro-batches. Instead, the rows the step's micro-batches use are looked
up once as a small table; each micro-batch reads its embeddings from that table
and its backward pass adds into the small table's gradient; leaving the step
carries that gradient into the vocabulary table in one backward pass. The
forward values are the same and the gradient is the same up to the order of
float additions (rows of ``padding_idx`` get none, as ``torch.nn.Embedding``
gives them).

It applies on a CPU only: there each lookup is checked to read ids of the step
(which on a GPU would cost a host synchronisation per micro-batch, where
zero-filling costs little). Where it does not apply (a GPU, an embedding that
is not a plain ``torch.nn.Embedding``, ``max_norm`` or ``scale_grad_by_freq``
set, frozen embeddings, a single micro-batch, or a lookup of ids outside the
step's), the model's own lookup is used, which is correct, only slower.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch


def _applies(embedding, device: torch.device) -> bool:
    return (
        device.type == "cpu"
        and type(embedding) is torch.nn.Embedding
        and embedding.max_norm is None
        and not embedding.scale_grad_by_freq
        and not embedding.sparse
        and embedding.weight.requires_grad
    )


@contextlib.contextmanager
def one_embedding_backward(model, input_ids: Sequence[np.ndarray], device: torch.device) -> Iterator[None]:
    """Within the block, the model's word-embedding lookups of ``input_ids`` (the step's micro-batches)
    read a shared table of their rows; on leaving it, the table's gradient goes to the embedding weights.

    Every micro-batch's backward pass must have run inside the block.
    """
    embedding = model.get_input_embeddings()
    if len(input_ids) < 2 or not _applies(embedding, device):
        yield
        return
    ids = np.unique(np.concatenate([np.asarray(a).ravel() for a in input_ids]))
    rows = torch.from_numpy(ids.astype(np.int64))
    table = embedding.weight.index_select(0, rows)  # its backward writes the vocabulary gradient, once
    shared = table.detach().requires_grad_()
    padding = embedding.padding_idx
    padding_row = int(np.searchsorted(ids, padding)) if padding is not None and padding in ids else None

    def lookup(module, args, output):
        if len(args) != 1 or not isinstance(args[0], torch.Tensor):
            return None
        index = torch.searchsorted(rows, args[0]).clamp_(max=len(rows) - 1)
        if not torch.equal(rows[index], args[0]):
            return None  # ids outside the step's: the model's own lookup
        return torch.nn.functional.embedding(index, shared, padding_idx=padding_row)

    handle = embedding.register_forward_hook(lookup)
    try:
        yield
    finally:
        handle.remove()
    if shared.grad is not None:
        table.backward(shared.grad)
