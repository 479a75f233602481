"""The methods' training recipes as data (config/methods/*/*.yaml) and the pytorch-metric-learning objects they
name, checked against the references' own loss formulas (written here from their description)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import torch
import yaml
from pytorch_metric_learning import losses, miners

from gaitgraph.methods.recipes import load_recipe, metric_learning
from gaitgraph.models import create_model

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted((REPO / "config" / "methods").glob("*/*.yaml"))


def test_there_is_a_recipe_per_method():
    assert {p.parent.name for p in RECIPES} >= {"gaittr", "gaitmixer", "gpgait"}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_recipe_loads_builds_its_model_and_its_losses(path):
    recipe = load_recipe(path)
    assert recipe["method"] == path.parent.name and recipe["dataset"] == path.stem
    m = recipe["model"]
    args = {k: v for k, v in m.items() if k != "name"}
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    model = create_model(m["name"], **args)
    assert model.in_channels == m["in_channels"]
    for entry in recipe["loss"] + [e for alt in recipe.get("loss_alternatives", {}).values() for e in alt]:
        assert "pml" in entry or "impl" in entry, f"loss {entry['name']!r} names no implementation"
        if "pml" in entry:
            loss, _ = metric_learning(entry)
            assert isinstance(loss, torch.nn.Module)
        if "impl" in entry:  # our own loss class (e.g. GPGait's per-part losses)
            module, _, name = entry["impl"]["class"].rpartition(".")
            loss = getattr(importlib.import_module(module), name)(**entry["impl"].get("args", {}))
            assert isinstance(loss, torch.nn.Module)


def test_gaittr_recipe_values():
    r = load_recipe(REPO / "config/methods/gaittr/casia-b.yaml")
    assert (r["sampler"]["identities"], r["sampler"]["per_identity"]) == (4, 64)
    assert r["schedule"]["total_steps"] == r["training"]["iterations"] == 40000
    assert r["augment"] == {"point_noise_std": 0.3, "flip_lr_p": 0.1, "flip_per_frame": True, "joint_noise_std": 0.3}
    assert [e["name"] for e in r["loss"]] == ["triplet"]  # FastPoseGait's GaitTR trains with the triplet loss only


def test_gaitmixer_recipe_values():
    r = load_recipe(REPO / "config/methods/gaitmixer/casia-b.yaml")
    assert r["sampler"]["batch_size"] == 296 and r["data"]["min_length"] == 61
    assert r["augment"]["joint_noise_std"] == 0.25  # what the code applies, not its 0.1 option
    assert r["loss_alternatives"]["supcon"][0]["temperature"] == 0.004


def reference_batch_hard_triplet(emb, labels, margin):
    """FastPoseGait TripletLoss(is_hard_loss=True): Euclidean distances (sqrt of relu'd squared form), hardest
    positive (max) and negative (min) per anchor, relu(ap - an + margin), mean over the non-zero losses."""
    x2 = (emb**2).sum(-1)
    dist = torch.sqrt(torch.relu(x2[:, None] + x2[None, :] - 2 * emb @ emb.T))
    same = labels[:, None] == labels[None, :]
    ap = torch.where(same, dist, torch.full_like(dist, -1)).max(1).values
    an = torch.where(~same, dist, torch.full_like(dist, float("inf"))).min(1).values
    loss = torch.relu(ap - an + margin)
    n = (loss != 0).sum()
    return loss.sum() / n if n else loss.sum() * 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gaittr_loss_equals_the_reference_batch_hard_triplet(seed):
    entry = load_recipe(REPO / "config/methods/gaittr/casia-b.yaml")["loss"][0]
    loss_fn, miner = metric_learning(entry)
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(4).repeat_interleave(8)  # P x K = 4 x 8
    emb = torch.randn(32, 128, generator=g) * 0.05 + torch.randn(4, 128, generator=g).repeat_interleave(8, 0) * 0.02
    ours = loss_fn(emb, labels, miner(emb, labels))
    expected = reference_batch_hard_triplet(emb, labels, 0.3)
    assert expected > 0
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-6)
    # the pml defaults (L2-normalised distance) would not be the reference's loss
    default = losses.TripletMarginLoss(margin=0.3)(emb, labels, miners.BatchHardMiner()(emb, labels))
    assert not torch.isclose(default, expected, rtol=1e-3)


def reference_supcon(features, labels, temperature):
    """GaitMixer's SupConLoss (contrast_mode 'all', base_temperature = temperature): features (B, views, D)."""
    b, views, _ = features.shape
    contrast = torch.cat(torch.unbind(features, dim=1))  # (views * B, D), view-major
    logits = contrast @ contrast.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    mask = (labels[:, None] == labels[None, :]).float().repeat(views, views)
    not_self = 1 - torch.eye(b * views)
    mask = mask * not_self
    logits = logits + 1e-8
    log_prob = logits - torch.log((torch.exp(logits) * not_self + 1e-8).sum(1, keepdim=True))
    return -((mask * log_prob).sum(1) / mask.sum(1)).mean()


def test_gaitmixer_supcon_alternative_equals_the_reference_loss():
    """Equal where the reference's arithmetic is sound: some embedding near each anchor (here the other view).

    At temperature 0.004 the reference subtracts the row maximum *including the self-similarity* and adds
    1e-8 to the sum of exponentials; when every other embedding has cosine < ~0.93 with the anchor, all
    exponentials underflow and the 1e-8 floor replaces the denominator (docs/fidelity.md, GaitMixer).
    pml's log-sum-exp stays exact, so the two part ways there.
    """
    entry = load_recipe(REPO / "config/methods/gaitmixer/casia-b.yaml")["loss_alternatives"]["supcon"][0]
    loss_fn, miner = metric_learning(entry)
    assert miner is None
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(6).repeat_interleave(4)
    base = torch.randn(6, 128, generator=g).repeat_interleave(4, 0) + 0.7 * torch.randn(24, 128, generator=g)
    views = [torch.nn.functional.normalize(base + 0.05 * torch.randn(24, 128, generator=g), dim=1) for _ in range(2)]
    expected = reference_supcon(torch.stack(views, dim=1), labels, 0.004)
    ours = loss_fn(torch.cat(views), labels.repeat(2))  # the two views as extra samples of the same label
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)
    spread = [torch.nn.functional.normalize(base + 0.7 * torch.randn(24, 128, generator=g), dim=1) for _ in range(2)]
    degenerate = reference_supcon(torch.stack(spread, dim=1), labels, 0.004)
    assert degenerate > 1.5 * loss_fn(torch.cat(spread), labels.repeat(2))  # the reference's underflow regime


def test_gaitmixer_default_loss_is_the_references_pml_pair():
    loss_fn, miner = metric_learning(load_recipe(REPO / "config/methods/gaitmixer/casia-b.yaml")["loss"][0])
    assert isinstance(loss_fn, losses.TripletMarginLoss) and loss_fn.margin == 0.01
    assert isinstance(miner, miners.MultiSimilarityMiner) and miner.epsilon == 0.1


def test_bad_recipes_are_refused_naming_the_file(tmp_path):
    good = yaml.safe_load((REPO / "config/methods/gaittr/casia-b.yaml").read_text())
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in good.items() if k != "schedule"}))
    with pytest.raises(ValueError, match=r"r\.yaml: missing recipe sections: schedule"):
        load_recipe(path)
    path.write_text(yaml.safe_dump({**good, "sampler": {**good["sampler"], "batch_size": 128}}))
    with pytest.raises(ValueError, match="not identities x per_identity"):
        load_recipe(path)
    with pytest.raises(ValueError, match="no pml block"):
        metric_learning({"name": "triplet"})
