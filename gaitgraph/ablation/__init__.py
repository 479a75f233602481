"""The ablation study of GaitGraph2 (``docs/ablation.md``), in three modules:

* :mod:`~gaitgraph.ablation.study`: trainings (recipe overlays), rows, config merging, settings (no paths;
  the workflow imports it while it parses);
* :mod:`~gaitgraph.ablation.rows`: one row's evaluation (``python -m gaitgraph.ablation.rows evaluate``);
* :mod:`~gaitgraph.ablation.table`: the table over rows and seeds.

The figure is :mod:`gaitgraph.viz.ablation_figure`.
"""
