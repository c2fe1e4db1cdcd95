"""The objects of a rendered Helm manifest (``helm template``, ``helm get manifest``), as
the plan and the drift audit both read them: pure, no database, no cluster."""

from __future__ import annotations

from typing import Any

import bounded_yaml


def parse_manifest(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document manifest (``kind: List`` items included); documents
    that are not objects with an apiVersion, a kind and a name are left out."""
    out: list[dict[str, Any]] = []
    for doc in bounded_yaml.load_all(text):
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            out.extend(i for i in doc["items"] if isinstance(i, dict))
        else:
            out.append(doc)
    return [o for o in out if o.get("apiVersion") and o.get("kind")
            and isinstance(o.get("metadata"), dict) and o["metadata"].get("name")]  # fmt: skip
