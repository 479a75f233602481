"""GPGait (Fu et al., "GPGait: Generalized Pose-based Gait Recognition", ICCV 2023, arXiv 2303.05234) as
implemented in FastPoseGait (BNU-IVC/FastPoseGait @ 94da9c8: ``modeling/models/gpgait.py``, the PAGCN unit,
``Part_AGCN_Residual``, ``SemanticPyramidPooling``, ``SeparateFCs``, ``SeparateBNNecks``).

Layout, top to bottom: the part-aware graph convolution (``PAGCN``) -> its residual block -> one branch
(data BN, shared blocks, then one stack of blocks per graph partition, each max-pooled over time and
pooled over the partition's parts) -> the network: three branches (pose and bone on 17 joints, angle on
the 12 body joints), 8 + 8 + 3 = 19 part features, per-part FCs (``head``) and a BNNeck (``BNNecks``).

Input: the Human-Oriented Descriptors (:mod:`gaitgraph.transforms.hod`) as ``(N, 6, T, 17)`` with
channels (x, y, bone x, bone y, angle, 0); also accepted as the reference feeds them, ``(N, 6, T, 17, 1)``,
and in the registry's layout ``(N, 3, 2, T, 17)`` (3 branches x 2 channels: the same memory).
``forward`` -> ``(N, D, 19)`` L2-normalised BNNeck part features, the reference's test-time embedding;
``forward_train`` -> the head features (triplet loss) and the BNNeck logits (cross-entropy).

Parameter names and shapes equal the reference's, so ``model`` of a FastPoseGait checkpoint loads with
``strict=True``. Reference quirks (``docs/methods.md``): every block's adjacency offset ``PA`` is its
own parameter here (the reference's share memory until a device move); the attention is scaled by
1 / (C' T) with the softmax over dim -2 (kept: checkpoints depend on it); ``lengths`` reproduces the
reference's batching, sequences concatenated in time, in which the attention mixes them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaitgraph.models.graph import distance_partitions
from gaitgraph.skeleton import Skeleton, get_skeleton

NUM_SUBSETS = 3  # hop-distance partitions 0, 1, 2 of the graph (max_hop 2)
BODY = tuple(range(5, 17))  # the angle branch's joints: COCO-17 without the head

# Graph partitions by level (the reference's GraphPartition): 1 masks the shared blocks, 2-4 are the
# part streams; SPP pools the level-0 (whole body) partition for the global stream.
_ARMS, _LEGS, _HEAD = (5, 7, 9, 6, 8, 10), (11, 13, 15, 12, 14, 16), (0, 1, 2, 3, 4)
COCO_PARTITIONS = {
    0: [tuple(range(17))],
    1: [(5, 7, 9), (6, 8, 10), (11, 13, 15), (12, 14, 16), _HEAD],  # four limbs, head
    2: [_ARMS + _HEAD, _LEGS],  # upper, lower half
    3: [_ARMS, _LEGS + _HEAD],  # arms, head + legs
    4: [_ARMS, _LEGS, _HEAD],
}
BODY_PARTITIONS = {  # indices into BODY
    0: [tuple(range(12))],
    1: [(0, 2, 4), (1, 3, 5), (6, 8, 10), (7, 9, 11)],  # four limbs
    2: [(0, 2, 4, 1, 3, 5), (6, 8, 10, 7, 9, 11)],  # upper, lower half
}
COCO_STREAMS = (("part_2", 2), ("part_2_2", 3), ("part_3_1", 4), ("backbone", 0))  # output order
BODY_STREAMS = (("part_2", 2), ("backbone", 0))
NUM_PARTS = (2 * sum(len(COCO_PARTITIONS[lv]) for _, lv in COCO_STREAMS)  # pose, bone: 8 each
             + sum(len(BODY_PARTITIONS[lv]) for _, lv in BODY_STREAMS))  # angle: 3


def body_skeleton() -> Skeleton:
    """COCO-17 restricted to :data:`BODY` (the reference's ``coco-no-head`` graph: the same bones)."""
    coco = get_skeleton("coco17")
    new = {j: i for i, j in enumerate(BODY)}
    return Skeleton(
        name="coco17-body", joints=tuple(coco.joints[j] for j in BODY),
        edges=tuple((new[a], new[b]) for a, b in coco.edges if a in new and b in new), center=0,
        parents=tuple(new.get(coco.parents[j], i) for i, j in enumerate(BODY)),
        flip_idx=tuple(new[coco.flip_idx[j]] for j in BODY),
    )


def partition_mask(parts: list[tuple[int, ...]], num_joints: int) -> torch.Tensor:
    """(V, V): 1 where both joints lie in the same part."""
    mask = torch.zeros(num_joints, num_joints)
    for p in parts:
        mask[torch.tensor(p)[:, None], torch.tensor(p)[None, :]] = 1.0
    return mask


class PAGCN(nn.Module):
    """Part-aware graph convolution: per subset i, ``conv_d_i(x @ ((softmax(q k / (C' T)) + A_i + PA_i) * mask))``.

    ``q = conv_a_i(x)`` read as (N, V, C'T), ``k = conv_b_i(x)`` as (N, C'T, V): the attention compares
    joints over all channels and frames at once, scaled by their number, normalised over dim -2.
    """

    def __init__(self, in_channels: int, out_channels: int, num_joints: int, coff_embedding: int = 4):
        super().__init__()
        inter = out_channels // coff_embedding
        self.PA = nn.Parameter(torch.full((NUM_SUBSETS, num_joints, num_joints), 1e-6))  # learned offsets
        self.conv_a = nn.ModuleList(nn.Conv2d(in_channels, inter, 1) for _ in range(NUM_SUBSETS))
        self.conv_b = nn.ModuleList(nn.Conv2d(in_channels, inter, 1) for _ in range(NUM_SUBSETS))
        self.conv_d = nn.ModuleList(nn.Conv2d(in_channels, out_channels, 1) for _ in range(NUM_SUBSETS))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, A: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        n, c, t, v = x.shape
        A = A + self.PA  # (S, V, V)
        y = None
        for i in range(NUM_SUBSETS):
            q = self.conv_a[i](x).permute(0, 3, 1, 2).reshape(n, v, -1)  # (N, V, C'T)
            k = self.conv_b[i](x).view(n, -1, v)  # (N, C'T, V)
            adj = torch.softmax(q @ k / q.shape[-1], dim=-2) + A[i]  # (N, V, V)
            if mask is not None:
                adj = adj * mask
            z = self.conv_d[i]((x.reshape(n, c * t, v) @ adj).view(n, c, t, v))
            y = z if y is None else z + y
        return F.mish(self.bn(y))


class PartBlock(nn.Module):
    """``PAGCN(x) + residual(x)``; the residual is a 1x1 conv + BN where the channels change."""

    def __init__(self, in_channels: int, out_channels: int, num_joints: int):
        super().__init__()
        self.asg = PAGCN(in_channels, out_channels, num_joints)
        if in_channels != out_channels:
            self.residual_s = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        else:
            self.residual_s = nn.Identity()

    def forward(self, x: torch.Tensor, A: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.asg(x, A, mask) + self.residual_s(x)


def pool_time(x: torch.Tensor, lengths: list[int] | None) -> torch.Tensor:
    """(N, C, T, V) -> (N, C, V) max over frames; with ``lengths`` (N = 1) one row per concatenated sequence."""
    if lengths is None:
        return x.amax(dim=2)
    return torch.cat([seg.amax(dim=2) for seg in x.split(list(lengths), dim=2)])


def pool_parts(x: torch.Tensor, parts: list[tuple[int, ...]]) -> torch.Tensor:
    """Semantic pyramid pooling: (N, C, V) -> (N, C, P), mean + max over each part's joints."""
    return torch.stack([x[..., list(p)].mean(-1) + x[..., list(p)].amax(-1) for p in parts], dim=-1)


class Branch(nn.Module):
    """One input branch: BN over (joint, channel), shared blocks (level-1 mask), one stack per stream."""

    def __init__(self, first_channels: int, channels: tuple[int, ...], share_num: int, skeleton: Skeleton,
                 partitions: dict, streams: tuple):
        super().__init__()
        v = skeleton.num_joints
        self.partitions, self.streams = partitions, streams
        self.data_bn = nn.BatchNorm1d(first_channels * v)
        ins = (first_channels,) + tuple(channels[1:share_num])
        self.layer_share = nn.ModuleList(PartBlock(i, o, v) for i, o in zip(ins, channels[1:share_num + 1]))
        pairs = list(zip(channels[share_num:-1], channels[share_num + 1:]))
        for name in ["backbone"] + [s for s, _ in streams if s != "backbone"]:  # the reference's order
            setattr(self, name, nn.ModuleList(PartBlock(i, o, v) for i, o in pairs))
        self.register_buffer("A", distance_partitions(skeleton, max_hop=NUM_SUBSETS - 1), persistent=False)
        for level in {1, *(lv for _, lv in streams if lv)}:
            self.register_buffer(f"mask{level}", partition_mask(partitions[level], v), persistent=False)

    def forward(self, x: torch.Tensor, lengths: list[int] | None = None) -> torch.Tensor:
        n, c, t, v = x.shape  # -> (N', C_last, parts)
        x = self.data_bn(x.permute(0, 3, 1, 2).reshape(n, v * c, t))  # channel index v * C + c
        x = x.view(n, v, c, t).permute(0, 2, 3, 1)
        for block in self.layer_share:
            x = block(x, self.A, self.mask1)
        out = []
        for name, level in self.streams:
            h = x
            mask = getattr(self, f"mask{level}") if level else None
            for block in getattr(self, name):
                h = block(h, self.A, mask)
            out.append(pool_parts(pool_time(h, lengths), self.partitions[level]))
        return torch.cat(out, dim=-1)


class SeparateFCs(nn.Module):
    """One linear map per part: (N, C, P) -> (N, D, P)."""

    def __init__(self, parts: int, in_channels: int, out_channels: int):
        super().__init__()
        self.fc_bin = nn.Parameter(nn.init.xavier_uniform_(torch.zeros(parts, in_channels, out_channels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.permute(2, 0, 1) @ self.fc_bin).permute(1, 2, 0)


class BNNeck(nn.Module):
    """BN over all (channel, part) features, L2-normalised per part; cosine logits against per-part class weights."""

    def __init__(self, parts: int, in_channels: int, num_classes: int):
        super().__init__()
        self.fc_bin = nn.Parameter(nn.init.xavier_uniform_(torch.zeros(parts, in_channels, num_classes)))
        self.bn1d = nn.BatchNorm1d(in_channels * parts)

    def _normalised(self, x: torch.Tensor) -> torch.Tensor:
        n, d, p = x.shape
        return F.normalize(self.bn1d(x.reshape(n, d * p)).view(n, d, p).permute(2, 0, 1), dim=-1)  # (P, N, D)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The part features alone, (N, D, P): what ``forward`` returns first, without the class logits (at test
        time these cost a normalisation of the whole (P, D, classes) weight per call: 25 M numbers on OUMVLP-Pose)."""
        return self._normalised(x).permute(1, 2, 0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self._normalised(x)
        logits = f @ F.normalize(self.fc_bin, dim=1)  # (P, N, classes)
        return f.permute(1, 2, 0), logits.permute(1, 2, 0)


class GPGait(nn.Module):
    """GPGait: pose, bone and angle branches -> 19 part features -> per-part FCs -> BNNeck."""

    def __init__(
        self, skeleton: str | Skeleton = "coco17", num_branches: int = 3, in_channels: int = 2, embedding_dim: int = 256,
        channels: tuple[int, ...] = (2, 64, 64, 128, 256), share_num: int = 3, num_classes: int = 74,
    ):
        super().__init__()
        channels = tuple(int(c) for c in channels)
        name = get_skeleton(skeleton).name
        if name != "coco17":
            raise ValueError(f"gpgait takes COCO-17 poses (its graphs, parts, angles), got skeleton {name!r}")
        if num_branches != 3:
            raise ValueError(f"gpgait has 3 branches (pose, bone, angle), got num_branches={num_branches}")
        if in_channels != 2 or channels[0] != 2:
            raise ValueError(f"gpgait takes 2 channels per branch (x, y), got in_channels={in_channels}, "
                             f"channels[0]={channels[0]}")
        if not 1 <= share_num < len(channels) - 1:
            raise ValueError(f"share_num must be in 1..{len(channels) - 2} for channels {list(channels)}, got {share_num}")
        if embedding_dim < 1 or num_classes < 1:
            raise ValueError(f"embedding_dim and num_classes must be positive, got {embedding_dim}, {num_classes}")
        self.channels, self.share_num, self.num_classes = channels, share_num, num_classes
        self.num_branches, self.in_channels, self.embedding_dim = num_branches, in_channels, embedding_dim
        coco, body = get_skeleton("coco17"), body_skeleton()
        self.bone = Branch(2, channels, share_num, coco, COCO_PARTITIONS, COCO_STREAMS)
        self.pose = Branch(2, channels, share_num, coco, COCO_PARTITIONS, COCO_STREAMS)
        self.angle = Branch(1, channels, share_num, body, BODY_PARTITIONS, BODY_STREAMS)
        self.head = SeparateFCs(NUM_PARTS, channels[-1], embedding_dim)
        self.BNNecks = BNNeck(NUM_PARTS, embedding_dim, num_classes)
        self._init_like_the_reference()

    def _init_like_the_reference(self) -> None:
        # FastPoseGait BaseModel.init_parameters: xavier-uniform convs, zero biases, BN2d gamma 1 beta 0
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @staticmethod
    def _as_nctv(x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 5 and x.shape[1:3] == (3, 2):  # (N, I=3, C=2, T, V)
            x = x.flatten(1, 2)
        elif x.dim() == 5 and x.shape[-1] == 1:  # the reference's (N, 6, T, V, M=1)
            x = x[..., 0]
        if x.dim() != 4 or x.shape[1] != 6 or x.shape[-1] != 17:
            raise ValueError(f"gpgait expects (N, 6, T, 17), (N, 6, T, 17, 1) or (N, 3, 2, T, 17) input, "
                             f"got {tuple(x.shape)}")
        return x

    def forward_features(self, x: torch.Tensor, lengths: list[int] | None = None) -> torch.Tensor:
        """HOD input -> (N, C_last, 19) part features (pose 8, bone 8, angle 3). ``lengths``: see module docstring."""
        x = self._as_nctv(x)
        if lengths is not None and (x.shape[0] != 1 or sum(lengths) != x.shape[2]):
            raise ValueError(f"lengths {list(lengths)} need one (1, 6, sum(lengths), 17) input, got {tuple(x.shape)}")
        pose = self.pose(x[:, 0:2], lengths)
        bone = self.bone(x[:, 2:4], lengths)
        angle = self.angle(x[:, 4:5, :, BODY[0]:], lengths)
        return torch.cat([pose, bone, angle], dim=-1)

    def forward_train(self, x: torch.Tensor, lengths: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (head features (N, D, 19) for the triplet loss, BNNeck logits (N, classes, 19) for cross-entropy)."""
        emb = self.head(self.forward_features(x, lengths))
        return emb, self.BNNecks(emb)[1]

    def forward(self, x: torch.Tensor, lengths: list[int] | None = None) -> torch.Tensor:
        """-> (N, D, 19) L2-normalised BNNeck part features: the reference's test-time embedding."""
        return self.BNNecks.features(self.head(self.forward_features(x, lengths)))
