"""The project's own error: one sentence saying what is wrong and what to do."""


class VAEError(ValueError):
    """A problem the user can fix; its message says how."""


class DataError(VAEError):
    """A dataset that cannot be read or has the wrong shape."""


class BundleError(VAEError):
    """A bundle that is missing, damaged, or lacks what was asked of it."""

    bundle = None  # the bundle's metadata when it could be read (the model card still shows it)


class PrecomputeError(BundleError):
    """A bundle whose precomputed arrays are missing or do not match: the precompute step fixes it."""


class ImageError(DataError):
    """A picture that cannot be decoded, or is too large or too thin to use."""
