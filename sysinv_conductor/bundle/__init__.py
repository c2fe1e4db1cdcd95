"""Application bundles on the conductor: safe extraction, metadata, layout, chart checks.

The conductor's upload flow calls, in order:

1. :func:`sysinv_conductor.bundle.reader.unpack` — which checks ``metadata.yaml`` in the
   stored tarball (:func:`~sysinv_common.apps.metadata.read_metadata_from_tarball`),
   extracts it into the app's own directory with path, type, size and count checks
   (:func:`~sysinv_common.apps.extract.extract_bundle`), and opens the result as a
   :class:`~sysinv_conductor.bundle.reader.Bundle`: metadata, the chart archives, the one
   Armada manifest file and the image archives; on failure the directory is removed;
2. the ``armada`` package validates ``Bundle.manifest``;
3. :func:`sysinv_conductor.bundle.charts.check_charts` — ``helm lint`` and ``helm show
   chart`` of every chart archive;
4. :func:`sysinv_conductor.bundle.charts.store_charts` — the archives copied into the
   local chart repository and its ``index.yaml`` rebuilt, once the database recorded that
   the app version holds them (``sysinv_conductor.flows.app_files``);
   :func:`~sysinv_conductor.bundle.charts.prune_repo` deletes those nobody holds.

Every problem with the bundle itself is a :class:`BundleError` whose message names the
member, field or chart at fault; the flow puts that message in the app's progress. Nothing
here touches the database. The format is described in docs/app-bundle.md.
"""

from __future__ import annotations

from sysinv_common.apps import BundleError

__all__ = ["BundleError"]
