"""Methods beside GaitGraph/GaitGraph2, each with its reference's test-time side in one module.

Every method module (``gaittr``, ``gaitmixer``, ``gpgait``) exposes the same small interface:

* ``NAME`` (registry name), ``TITLE`` (human-readable), ``CITATION`` (paper + reference code);
* ``is_checkpoint(ckpt: dict) -> bool``: whether a loaded checkpoint dict is in the reference's format
  (recognised from its keys and shapes);
* ``load_checkpoint(path_or_dict, map_location="cpu") -> LoadedMethodModel``: the network in eval mode and
  what the pipeline needs; anything else raises ``gaitgraph.checkpoints.CheckpointError`` naming the file;
* ``embed(loaded, raw_sequences, *, batch_size=..., device=None) -> numpy array``: the reference's test-time
  embeddings of raw ``(T, V, 3)`` pixel x, y, confidence sequences. A sequence that the reference's test
  protocol drops (GaitMixer: too short) gives a row of NaN; ``dropped_rows(out)`` marks them.

``gaitgraph.methods.common`` holds what they share (``LoadedMethodModel``, ``dropped_rows``). The training
side lives in ``gaitgraph/transforms/<method>.py`` and ``config/methods/<method>/<dataset>.yaml``
(``docs/methods.md``).
"""
