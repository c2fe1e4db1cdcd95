"""`python -m armada validate FILE...`: check Armada manifests; exit 1 on any error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from armada.documents import ArmadaValidationError, load_documents


def validate(paths: Sequence[str]) -> int:
    status = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                docs = load_documents(f.read())
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror or exc}")
            status = 1
            continue
        except ArmadaValidationError as exc:
            for error in exc.errors:
                print(f"{path}: {error}")
            status = 1
            continue
        print(
            f"{path}: valid: {len(docs.manifests)} manifest(s), {len(docs.groups)} chart "
            f"group(s), {len(docs.charts)} chart(s)"
        )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m armada", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("validate", help="validate Armada manifest files")
    check.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)
    return validate(args.files)


if __name__ == "__main__":
    sys.exit(main())
