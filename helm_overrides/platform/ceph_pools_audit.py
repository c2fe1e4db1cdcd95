"""ceph-pools-audit: a job that keeps the platform pools' replication as configured."""

from __future__ import annotations

from typing import Any

from helm_overrides.platform.ceph import (
    CRUSH_RULE,
    NAMESPACE,
    ceph_of,
)
from helm_overrides.plugin import ChartPlugin
from helm_overrides.snapshot import ChartInput, ModelSnapshot


class CephPoolsAuditPlugin(ChartPlugin):
    chart = "ceph-pools-audit"
    namespaces = (NAMESPACE,)

    def compute(self, snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
        ceph = ceph_of(snap)
        return {
            "conf": {
                "ceph": {
                    "monitors": list(ceph.monitors),
                    "storage_tiers": [
                        {
                            "name": "storage",
                            "replication": ceph.replication,
                            "min_replication": ceph.min_replication,
                            # The chart's template reads crush_rule_name (its values.yaml
                            # still says crush_ruleset).
                            "crush_rule_name": CRUSH_RULE,
                        }
                    ],
                }
            },
        }
