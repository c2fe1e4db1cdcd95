"""Application bundles as both the API and the conductor read them: one metadata.yaml
parser and one safe tar reader, so that the two sides can never disagree on a bundle."""

from __future__ import annotations

from sysinv_common.errors import InvalidInput


class BundleError(InvalidInput):
    """The bundle is unacceptable; ``message`` says which part and why.

    A subclass of :class:`InvalidInput`, so the API answers it with a 400 and the
    conductor records it as the failed operation's reason.
    """
