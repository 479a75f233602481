"""Sequence-level transforms: padding and cropping, input features, augmentation."""
