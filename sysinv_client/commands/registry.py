"""The local registry's images: registry-image-list, registry-image-tags,
registry-image-delete, registry-garbage-collect (StarlingX's commands and columns)."""

from __future__ import annotations

import argparse
from typing import Any

from sysinv_client.commands.common import Context, output_options
from sysinv_client.formatting import print_list


def image_list(ctx: Context, args: argparse.Namespace) -> None:
    untagged = "True" if args.filter_out_untagged else None
    rows = (ctx.api.get("registry_image", filter_out_untagged=untagged) or {}).get(
        "registry_images", []
    )
    print_list(ctx.out, rows, ["name"], ["Image Name"], args.format, args.columns, "name")


def image_tags(ctx: Context, args: argparse.Namespace) -> None:
    rows = (ctx.api.get("registry_image", image_name=args.name) or {}).get("registry_images", [])
    print_list(ctx.out, rows, ["tag"], ["Image Tag"], args.format, args.columns, "tag")


def image_delete(ctx: Context, args: argparse.Namespace) -> None:
    ctx.api.request("DELETE", "registry_image", image_name_and_tag=args.name_and_tag)
    ctx.out.write(
        f"Image {args.name_and_tag} deleted, please run garbage collect to free disk space.\n"
    )


def garbage_collect(ctx: Context, args: argparse.Namespace) -> None:
    ctx.out.write("Running docker registry garbage collect\n")
    ctx.out.flush()
    done = ctx.api.request("POST", "registry_image", garbage_collect="True") or {}
    before, after = done.get("bytes_before", 0), done.get("bytes_after", 0)
    ctx.out.write(
        f"Garbage collect done: {(before - after) / 1e6:.1f} MB freed "
        f"({before / 1e6:.1f} MB -> {after / 1e6:.1f} MB)\n"
    )


def register(sub: Any) -> None:
    p = sub.add_parser("registry-image-list", help="list the images in the local registry")
    p.add_argument("--filter-out-untagged", action="store_true",
                   help="leave out images left without a tag")  # fmt: skip
    output_options(p)
    p.set_defaults(func=image_list)

    p = sub.add_parser("registry-image-tags", help="list the tags of an image")
    p.add_argument("name", metavar="<image name>")
    output_options(p)
    p.set_defaults(func=image_tags)

    p = sub.add_parser("registry-image-delete", help="delete an image tag from the local registry")
    p.add_argument("name_and_tag", metavar="<image name and tag>",
                   help="name:tag, e.g. docker.io/library/busybox:1.36")  # fmt: skip
    p.set_defaults(func=image_delete)

    p = sub.add_parser(
        "registry-garbage-collect",
        help="free the blobs of deleted images (the registry is read-only meanwhile)",
    )
    p.set_defaults(func=garbage_collect)
