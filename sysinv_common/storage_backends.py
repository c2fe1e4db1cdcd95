"""Storage backends as answered (API and conductor alike), and their names."""

from __future__ import annotations

from sysinv_common.db.models.storage_backend import StorageBackend
from sysinv_common.messaging.rpcapi import StorageBackendRow

#: StarlingX's default name of each backend kind.
DEFAULT_NAMES = {"ceph": "ceph-store", "ceph-external": "ceph-ext-store"}


def row_out(row: StorageBackend) -> StorageBackendRow:
    capabilities: dict[str, object] = {}
    if row.replication is not None:
        capabilities = {
            "replication": str(row.replication),
            "min_replication": str(row.min_replication),
        }
    return StorageBackendRow(
        uuid=row.uuid,
        name=row.name,
        backend=row.backend,
        state=row.state,
        reason=row.reason,
        services=row.services,
        capabilities=capabilities,
        monitors=[str(m) for m in row.monitors],
        fsid=row.fsid,
        keyring_path=row.keyring_path,
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat() if row.updated_at else None,
    )
