"""IEMOCAP's student networks.

With pooled per-utterance features (``visual``) the standard path applies: ``experiment.run(method,
train, test)`` with the MLP student of :mod:`amidlib.core.models`. The paper's student is an RNN over
the frame features (§4.2, "RNN is adopted as the student network with a final feature dimension of
768"): :class:`FrameGRU` (a GRU over the fixed ``T`` frames, last hidden state → 768), in the nets
of :func:`build_rnn_nets`. :func:`gru_run_args` gives what :func:`amidlib.core.experiment.run` needs to
train it on ``visual_frames``::

    train, test = iemocap_folds(feats, "AL-V", student="rnn")[0]
    run("amid", train, test, preset="paper_iemocap", **gru_run_args(feats.n_frames, feats.frame_dim))
"""
from __future__ import annotations

import functools

import torch
from torch import nn

from amidlib.core.models import NEG_SLOPE, CrossModalNets

__all__ = ["FrameGRU", "build_rnn_nets", "gru_nets", "gru_run_args"]


class FrameGRU(nn.Module):
    """The paper's IEMOCAP student: a GRU over the per-frame DenseNet features → representation (dim).

    Input: ``(B, T, frame_dim)`` or the flattened ``(B, T·frame_dim)`` rows of ``visual_frames`` (T is
    fixed: every utterance is sampled to the same ``n_frames``, so no padding is needed), optionally
    with ``lengths`` (B,) for padded sequences. Output: LeakyReLU(Linear(last hidden state)) of size
    ``dim`` (768 in the paper); with ``bidirectional`` the two directions' last states are concatenated.
    """

    def __init__(self, frame_dim: int = 1024, n_frames: int = 16, dim: int = 768, hidden: int | None = None,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        self.frame_dim, self.n_frames, self.dim = int(frame_dim), int(n_frames), int(dim)
        hidden = int(hidden or dim)
        self.input_dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.gru = nn.GRU(frame_dim, hidden, num_layers=num_layers, batch_first=True, bidirectional=bidirectional,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.proj = nn.Linear(hidden * (2 if bidirectional else 1), dim)
        self.act = nn.LeakyReLU(NEG_SLOPE)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() == 2:
            if x.shape[1] != self.n_frames * self.frame_dim:
                raise ValueError(f"FrameGRU expects {self.n_frames}x{self.frame_dim} = "
                                 f"{self.n_frames * self.frame_dim} columns, got {x.shape[1]}")
            x = x.view(x.shape[0], self.n_frames, self.frame_dim)
        x = self.input_dropout(x)
        if lengths is not None:
            x = nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths).cpu(), batch_first=True,
                                                  enforce_sorted=False)
        _, h = self.gru(x)  # (layers * directions, B, hidden)
        last = torch.cat([h[-2], h[-1]], dim=1) if self.gru.bidirectional else h[-1]
        return self.act(self.proj(last))


def build_rnn_nets(n_frames: int, frame_dim: int, aux_dim: int, n_classes: int, dim: int = 768,
                   hidden: int = 256, dropout: float = 0.0, rnn_hidden: int | None = None):
    """:class:`~amidlib.core.models.CrossModalNets` with :class:`FrameGRU` as the student's extractor
    (the teacher head sees its output, §4.2) and the identity as the frozen auxiliary extractor
    (the auxiliary features are the cached wav2vec 2.0 / BERT vectors)."""
    return CrossModalNets(
        target_extractor=FrameGRU(frame_dim, n_frames, dim, hidden=rnn_hidden, dropout=dropout),
        aux_extractor=nn.Identity(), target_feat_dim=dim, aux_feat_dim=aux_dim, dim=dim,
        n_classes=n_classes, teacher_hidden=hidden)


def gru_nets(ds, n_classes: int, cfg, *, n_frames: int, frame_dim: int,
             rnn_hidden: int | None = None) -> CrossModalNets:
    """``nets_factory`` of :func:`amidlib.core.experiment.run` (with ``n_frames``, ``frame_dim`` bound):
    :func:`build_rnn_nets` sized by the run's config."""
    if ds.target_dim != n_frames * frame_dim:
        raise ValueError(f"target has {ds.target_dim} columns, expected n_frames*frame_dim = {n_frames * frame_dim}")
    return build_rnn_nets(n_frames, frame_dim, ds.aux_dim, n_classes, cfg.dim, cfg.hidden, cfg.dropout, rnn_hidden)


def gru_run_args(n_frames: int, frame_dim: int, rnn_hidden: int | None = None) -> dict:
    """What :func:`amidlib.core.experiment.run` needs to train the :class:`FrameGRU` student on
    ``visual_frames``: the nets factory, and the student's description for ``Result.config``."""
    return {"nets_factory": functools.partial(gru_nets, n_frames=n_frames, frame_dim=frame_dim, rnn_hidden=rnn_hidden),
            "record_extra": {"student": "FrameGRU", "n_frames": n_frames, "frame_dim": frame_dim,
                             "rnn_hidden": rnn_hidden}}
