"""Figures, activation maps and skeleton animations (``docs/figures.md``).

* ``gaitgraph.viz.figures``: paper figures (rank-1 per view, view heat maps, training curves,
  comparison with published numbers), PNG + PDF.
* ``gaitgraph.viz.activation``: class activation maps on the skeleton as GIFs
  (``draw_activations``, ``DrawActivationCallback`` for ``gaitgraph predict --config config/draw.yaml``).
* ``gaitgraph.viz.animate``: skeleton animation of a converted dataset's sequence (``gaitgraph-data show``).

Submodules are imported on use, so ``import gaitgraph.viz`` stays cheap (no torch, no Lightning).
"""
