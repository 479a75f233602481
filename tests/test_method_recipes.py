"""The peers' packaged recipes (gaitgraph/recipes/<method>/<dataset>.yaml) resolve through `gaitgraph fit
--print_config` to their references' values, build the networks they name, and their losses equal the references'
loss formulas (written here from their description)."""

from __future__ import annotations

import types

import pytest
import torch
import yaml
from pytorch_metric_learning import losses, miners

from gaitgraph.cli import main as cli_main
from gaitgraph.methods import get_method
from gaitgraph.recipes import list_recipes
from gaitgraph.training.embedding_module import one_cycle
from gaitgraph.training.triplet_losses import batch_hard_triplet, multi_similarity_triplet, supcon

PEERS = ("gaittr", "gpgait", "gaitmixer")
REFERENCE_RECIPES = {"gaittr/casia-b", "gaitmixer/casia-b", "gpgait/casia-b", "gpgait/oumvlp-pose"}


def resolved(recipe: str, capsys, *extra: str) -> dict:
    """The configuration `gaitgraph fit --recipe RECIPE --print_config` prints."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli_main.main(["fit", "--recipe", recipe, "--data.data_path", "unused", *extra, "--print_config"])
    assert e.value.code in (0, None)
    return yaml.safe_load(capsys.readouterr().out)


def test_every_reference_recipe_is_packaged_and_named_by_its_method():
    assert REFERENCE_RECIPES <= set(list_recipes())
    assert {r for m in PEERS for r in get_method(m).recipes.values()} == REFERENCE_RECIPES
    for name in PEERS:
        assert all(recipe == f"{name}/{dataset}" for dataset, recipe in get_method(name).recipes.items())
        assert get_method(name).trainable


@pytest.mark.parametrize("recipe, params", [("gaittr/casia-b", 512_010), ("gaitmixer/casia-b", 166_304),
                                            ("gpgait/casia-b", 3_654_810), ("gpgait/oumvlp-pose", 32_479_008)])
def test_recipe_builds_the_reference_network(recipe, params, capsys):
    cfg = resolved(recipe, capsys)
    assert cfg["method"] == recipe.split("/")[0]
    module = get_method(cfg["method"]).lightning_classes()[0](**cfg["model"])
    assert sum(p.numel() for p in module.backbone.parameters()) == params


def _schedule(cfg: dict, steps: int) -> list[float]:
    module = get_method(cfg["method"]).lightning_classes()[0](**cfg["model"])
    opt = module.configure_optimizers.__func__(types.SimpleNamespace(
        parameters=lambda: [torch.nn.Parameter(torch.zeros(1))], hparams=module.hparams,
        trainer=types.SimpleNamespace(estimated_stepping_batches=steps)))
    assert isinstance(opt["optimizer"], torch.optim.Adam) and opt["lr_scheduler"]["interval"] == "step"
    sched, lrs = opt["lr_scheduler"]["scheduler"], []
    assert sched.total_steps == steps
    for _ in range(steps):
        lrs.append(opt["optimizer"].param_groups[0]["lr"])
        opt["optimizer"].step()
        sched.step()
    return lrs


def test_gaittr_recipe_values(capsys):
    cfg = resolved("gaittr/casia-b", capsys)
    d, m, t = cfg["data"], cfg["model"], cfg["trainer"]
    assert (d["identities"], d["per_identity"], d["sequence_length"], d["frames"]) == (4, 64, 60, "window")
    assert t["max_steps"] == 40000 and t["sync_batchnorm"] and d["min_length"] == 1
    assert (m["point_noise_std"], m["flip_lr_p"], m["per_frame_flip"], m["joint_noise_std"]) == (0.3, 0.1, True, 0.3)
    assert (m["margin"], m["features"], m["optimizer"], m["weight_decay"]) == (0.3, "reference", "adam", 2e-5)
    lrs = _schedule(cfg, 400)  # the reference's 40000 steps, scaled by 1/100: the shape of the cycle is the same
    assert lrs[0] == pytest.approx(1e-3 / 100) and max(lrs) == pytest.approx(1e-3, rel=1e-3)
    assert lrs.index(max(lrs)) == pytest.approx(0.475 * 400, abs=2)  # three_phase: up, down, annihilate
    assert lrs[-1] == pytest.approx(1e-3 / 100 / 1000, rel=0.05)
    assert get_method("gaittr").metric == "euc"


def test_gaitmixer_recipe_values(capsys):
    cfg = resolved("gaitmixer/casia-b", capsys)
    d, m = cfg["data"], cfg["model"]
    assert d["identities"] is None and d["per_identity"] == 4 and d["min_length"] == 61
    assert d["repeat_conditions"] == {"bg": 3, "cl": 3} and d["frames"] == "flip_window"
    assert m["joint_noise_std"] == 0.25  # what the code applies, not its 0.1 option
    assert (m["loss"], m["margin"], m["temperature"], m["learning_rate"]) == ("triplet", 0.01, 0.004, 6e-3)
    assert cfg["trainer"]["max_epochs"] == 300
    lrs = _schedule(cfg, 100)
    assert lrs[0] == pytest.approx(6e-3 / 25) and lrs.index(max(lrs)) == pytest.approx(30, abs=1)
    assert get_method("gaitmixer").metric == "cos"
    from gaitgraph.transforms.gaitmixer import NUM_FRAMES  # the spec writes 61 to stay free of torch

    assert get_method("gaitmixer").data_defaults["min_length"] == NUM_FRAMES + 1 == 61


def test_the_method_registry_reads_every_spec_without_torch():
    """The workflow parses the specs (recipes, trainability) on every snakemake call; torch is not imported for it."""
    import subprocess
    import sys

    code = ("import sys; from gaitgraph.methods import get_method, list_methods; "
            "[(get_method(m).recipes, get_method(m).trainable) for m in list_methods()]; "
            "print(sorted(k for k in sys.modules if k == 'torch' or k.startswith('gaitgraph.models')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("recipe, p, k, frames, ce_weight, flip_p, steps",
                         [("gpgait/casia-b", 4, 32, 60, 1.0, 0.1, 40000),
                          ("gpgait/oumvlp-pose", 32, 16, 30, 0.5, 0.01, 150000)])
def test_gpgait_recipe_values(recipe, p, k, frames, ce_weight, flip_p, steps, capsys):
    cfg = resolved(recipe, capsys)
    d, m = cfg["data"], cfg["model"]
    assert (d["identities"], d["per_identity"], d["sequence_length"], d["frames"]) == (p, k, frames, "unordered")
    assert (m["ce_weight"], m["triplet_weight"], m["ce_scale"], m["flip_p"], m["affine"]) == (ce_weight, 1.0, 16.0,
                                                                                           flip_p, None)
    assert cfg["trainer"]["max_steps"] == steps and m["hard_triplet"] and m["margin"] == 0.3
    assert get_method("gpgait").metric == "euc"


def test_command_line_overrides_a_recipe(capsys):
    cfg = resolved("gaittr/casia-b", capsys, "--data.per_identity", "8", "--model.margin", "0.2")
    assert cfg["data"]["per_identity"] == 8 and cfg["model"]["margin"] == 0.2


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
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(4).repeat_interleave(8)  # P x K = 4 x 8
    emb = torch.randn(32, 128, generator=g) * 0.05 + torch.randn(4, 128, generator=g).repeat_interleave(8, 0) * 0.02
    ours = batch_hard_triplet(0.3)(emb, labels)
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


def test_gaitmixer_supcon_option_equals_the_reference_loss():
    """Equal where the reference's arithmetic is sound: some embedding near each anchor (here the other view).

    At temperature 0.004 the reference subtracts the row maximum *including the self-similarity* and adds
    1e-8 to the sum of exponentials; when every other embedding has cosine < ~0.93 with the anchor, all
    exponentials underflow and the 1e-8 floor replaces the denominator (docs/fidelity.md, GaitMixer).
    pml's log-sum-exp stays exact, so the two part ways there.
    """
    loss_fn = supcon(0.004)
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(6).repeat_interleave(4)
    base = torch.randn(6, 128, generator=g).repeat_interleave(4, 0) + 0.7 * torch.randn(24, 128, generator=g)
    views = [torch.nn.functional.normalize(base + 0.05 * torch.randn(24, 128, generator=g), dim=1) for _ in range(2)]
    expected = reference_supcon(torch.stack(views, dim=1), labels, 0.004)
    # the two views as extra samples of the same label (the training step's layout: views of a sequence adjacent)
    ours = loss_fn(torch.stack(views, dim=1).flatten(0, 1), labels.repeat_interleave(2))
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)
    spread = [torch.nn.functional.normalize(base + 0.7 * torch.randn(24, 128, generator=g), dim=1) for _ in range(2)]
    degenerate = reference_supcon(torch.stack(spread, dim=1), labels, 0.004)
    assert degenerate > 1.5 * loss_fn(torch.cat(spread), labels.repeat(2))  # the reference's underflow regime


def test_gaitmixer_default_loss_is_the_references_pml_pair():
    """exitudio/GaitMixer calls pml itself: MultiSimilarityMiner() pairs -> TripletMarginLoss(margin=0.01)."""
    g = torch.Generator().manual_seed(3)
    labels = torch.arange(5).repeat_interleave(4)
    emb = torch.nn.functional.normalize(torch.randn(20, 32, generator=g), dim=1)
    expected = losses.TripletMarginLoss(margin=0.01)(emb, labels, miners.MultiSimilarityMiner()(emb, labels))
    assert torch.equal(multi_similarity_triplet(0.01, 0.1)(emb, labels), expected)
    ours = multi_similarity_triplet(0.01, 0.1).loss
    assert ours.loss.margin == 0.01 and ours.miner.epsilon == 0.1
