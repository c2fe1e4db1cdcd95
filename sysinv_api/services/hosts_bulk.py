"""``host-bulk-add`` and ``host-bulk-export``: hosts described in StarlingX's XML format.

The document is ``<hosts version="...">`` holding one ``<host>`` per host, each with one
element per attribute (``<hostname>``, ``<personality>``, ``<mgmt_mac>``, ...). Export
writes it from the hosts table; bulk add reads it and adds each host through the same
code as ``POST /v1/ihosts`` (:func:`create_host`), in two passes as sysinv does:

1. every ``<host>`` is checked (names, personality, MAC, ...); one bad host adds none,
   and the answer names it;
2. each host is added in its own transaction; one that fails (a hostname or MAC already
   taken) is reported and the others are still added.

The answer is sysinv's ``{"success": ..., "error": ...}``: the hostnames added, one per
line, and one line per failed host. Unlike sysinv, hostnames are written for every host
(StarlingX names controllers and storage hosts itself; here every host needs one).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building the export; parsing goes through defusedxml
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as defused
from defusedxml import DefusedXmlException

from sysinv_api.services.hosts import create_host, new_host_fields
from sysinv_common.db.engine import Database
from sysinv_common.db.models import Host
from sysinv_common.errors import SysinvError
from sysinv_common.states.host import Personality

#: Largest hosts file accepted (a few thousand hosts).
MAX_BYTES = 1024 * 1024

#: The ``<host>`` elements read by bulk add: sysinv's, plus ``mgmt_ip``, which its export
#: writes. Other elements (``tboot``, ``sw_version``, ...) are ignored, as sysinv does.
READ = (
    "hostname", "personality", "subfunctions", "mgmt_mac", "mgmt_ip", "bm_ip", "bm_type",
    "bm_username", "bm_password", "boot_device", "rootfs_device", "hw_settle",
    "install_output", "console", "vsc_controllers", "location",
)  # fmt: skip
#: Elements sysinv acts on that this platform cannot, and why: said for each host.
IGNORED = {
    "power_on": "this platform does not power hosts on (no board management integration)",
    "apparmor": "sysinv does not manage AppArmor on the nodes",
}
#: Columns the export writes, after personality, hostname and the management addresses.
EXPORTED = (
    "bm_type", "bm_username", "bm_password", "boot_device", "rootfs_device", "hw_settle",
    "install_output", "console",
)  # fmt: skip


@dataclass
class BulkResult:
    """sysinv's answer (``success``, ``error``) and the ids of the hosts added."""

    success: str = ""
    error: str = ""
    added: list[int] = field(default_factory=list)

    def answer(self) -> dict[str, str]:
        return {"success": self.success, "error": self.error}


@dataclass(frozen=True)
class _Entry:
    body: dict[str, Any]
    ignored: tuple[str, ...]

    @property
    def name(self) -> str:
        return str(self.body.get("hostname") or self.body.get("personality") or "(unnamed)")


class _Refused(Exception):
    """The document as a whole is refused: no host is added."""


def _parse(content: bytes) -> list[_Entry]:
    if len(content) > MAX_BYTES:
        raise _Refused(f"No hosts have been added, the hosts file is over {MAX_BYTES} bytes")
    # defusedxml refuses what makes XML blow up when parsed: document types, entities.
    try:
        root = defused.fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise _Refused("No hosts have been added, a hosts file may not hold a DOCTYPE") from None
    except defused.ParseError:
        raise _Refused("No hosts have been added, invalid XML document") from None
    entries = []
    for xml_host in root.findall("host"):
        body: dict[str, Any] = {}
        for name in READ:
            element = xml_host.find(name)
            text = (element.text or "").strip() if element is not None else ""
            if text:  # an empty element means "not given", as a missing one
                body[name] = text
        ignored = tuple(n for n in IGNORED if xml_host.find(n) is not None)
        entries.append(_Entry(body, ignored))
    if not entries:
        raise _Refused("No hosts have been added, the document has no <host> element")
    return entries


def add_hosts(db: Database, content: bytes) -> BulkResult:
    """Check every host of the document, then add them one by one (see the module doc)."""
    result = BulkResult()
    try:
        entries = _parse(content)
    except _Refused as exc:
        result.error = str(exc)
        return result
    with db.session() as s:
        for index, entry in enumerate(entries):
            try:
                new_host_fields(s, entry.body)
            except SysinvError as exc:
                culprit = entry.body.get("hostname") or f"with index {index}"
                result.error = (
                    f" No hosts have been added, error parsing host {culprit}: {exc.message}"
                )
                return result
    for entry in entries:
        try:
            with db.session() as s:
                result.added.append(create_host(s, entry.body).id)
        except SysinvError as exc:
            result.error += f" {entry.name}: {exc.message}\n"
            continue
        result.success += f"\n {entry.name}"
        for name in entry.ignored:
            result.success += f" Warning: Ignoring <{name}>: {IGNORED[name]}."
    return result


def _rank(host: Host) -> tuple[int, str]:
    order = (Personality.CONTROLLER, Personality.STORAGE, Personality.WORKER)
    personality = host.personality or ""
    rank = [p.value for p in order].index(personality) if personality in order else len(order)
    return rank, host.hostname


def export_hosts(hosts: Sequence[Host], sw_version: str) -> str:
    """The hosts as a bulk-add document: controllers, storage, workers, then the rest."""
    root = ET.Element("hosts", {"version": sw_version})
    for host in sorted(hosts, key=_rank):
        node = ET.SubElement(root, "host")
        ET.SubElement(node, "personality").text = host.personality
        ET.SubElement(node, "hostname").text = host.hostname
        if host.personality == Personality.WORKER:
            # Only a worker's is chosen (lowlatency); the others follow from the system.
            ET.SubElement(node, "subfunctions").text = host.subfunctions
        ET.SubElement(node, "mgmt_mac").text = host.mgmt_mac
        if host.mgmt_ip:
            ET.SubElement(node, "mgmt_ip").text = host.mgmt_ip
        location = (host.location or {}).get("locn")
        if location:
            ET.SubElement(node, "location").text = location
        for name in EXPORTED:
            # The board management password is never exported, as sysinv does.
            value = None if name == "bm_password" else getattr(host, name)
            ET.SubElement(node, name).text = value
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
