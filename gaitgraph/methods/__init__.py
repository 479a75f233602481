"""Methods other than GaitGraph2: one module per method (NAME, load_checkpoint, embed, ...)."""
