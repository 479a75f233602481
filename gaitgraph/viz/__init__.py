"""Figures, activation maps and skeleton animations (``docs/figures.md``).

* paper figures, one module each, PNG + PDF: ``rank1_by_view``, ``view_heatmaps``, ``training_curves``,
  ``comparison`` (with published numbers), ``ablation_figure``; ``common`` holds what they share
  (dataset facts from the registry, published entries, labels) and ``style`` the one look.
* ``gaitgraph.viz.activation``: class activation maps on the skeleton as GIFs
  (``draw_activations``, ``DrawActivationCallback`` for ``gaitgraph predict --recipe gaitgraph2/draw``).
* ``gaitgraph.viz.animate``: skeleton animation of a converted dataset's sequence (``gaitgraph-data show``).

Submodules are imported on use, so ``import gaitgraph.viz`` stays cheap (no torch, no Lightning).
"""
