#!/usr/bin/env python3
"""Validate airisk OSCAL exports (catalogs and SoA component definitions) with
compliance-trestle's OSCAL object model.

Usage: validate_oscal.py FILE.json...   (exit 1 if any file fails)
Needs: pip install compliance-trestle   (PyPI only; no other network access)
"""
import json
import sys

from trestle.oscal import OSCAL_VERSION
from trestle.oscal.catalog import Catalog
from trestle.oscal.component import ComponentDefinition

MODELS = {"catalog": Catalog, "component-definition": ComponentDefinition}


def main(paths):
    failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        try:
            (root, body), = doc.items()
            model = MODELS[root]
            if hasattr(model, "model_validate"):
                model.model_validate(body)
            else:  # trestle versions on pydantic 1
                model.parse_obj(body)
            print(f"ok    {path}")
        except Exception as exc:  # report every file, then fail
            failed += 1
            print(f"FAIL  {path}\n{exc}")
    print(f"{len(paths) - failed}/{len(paths)} valid (trestle OSCAL model {OSCAL_VERSION})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
