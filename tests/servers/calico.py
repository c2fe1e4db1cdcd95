"""Calico's CustomResourceDefinitions on the test cluster (calico-crds.yaml), for the
tests that apply Calico resources; no calico-node runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

CRDS_FILE = Path(__file__).with_name("calico-crds.yaml")
GROUP, VERSION = "crd.projectcalico.org", "v1"
OBJECTS = [
    ("ippools", "default-ipv4-ippool"),
    ("ippools", "default-ipv6-ippool"),
    ("felixconfigurations", "default"),
    ("bgpconfigurations", "default"),
]


def install_crds(api: Any) -> None:
    """Create (or replace) the CRDs, wait until served, and remove objects of earlier runs."""
    ext = client.ApiextensionsV1Api(api)
    crds = list(yaml.safe_load_all(CRDS_FILE.read_text()))
    for crd in crds:
        try:
            ext.create_custom_resource_definition(crd)
        except ApiException as exc:
            if exc.status != 409:
                raise
            current = ext.read_custom_resource_definition(crd["metadata"]["name"])
            crd["metadata"]["resourceVersion"] = current.metadata.resource_version
            ext.replace_custom_resource_definition(crd["metadata"]["name"], crd)
    deadline = time.monotonic() + 30
    for crd in crds:
        name = crd["metadata"]["name"]
        while True:
            conditions = ext.read_custom_resource_definition(name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            assert time.monotonic() < deadline, f"CRD {name} not Established"
            time.sleep(0.2)
    objects = client.CustomObjectsApi(api)
    for plural, name in OBJECTS:
        try:
            objects.delete_cluster_custom_object(GROUP, VERSION, plural, name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def delete_crds(api: Any) -> None:
    ext = client.ApiextensionsV1Api(api)
    for crd in yaml.safe_load_all(CRDS_FILE.read_text()):
        try:
            ext.delete_custom_resource_definition(crd["metadata"]["name"])
        except ApiException as exc:
            if exc.status != 404:
                raise
