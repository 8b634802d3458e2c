"""Command line: ``python -m checklists validate FILE...`` (and ``hash``, ``diff``).

- ``validate FILE...``: prints every problem (``file: path: message``) to
  stderr and exits 1 if any file has one; otherwise prints ``OK`` per file.
  ``validate --shipped`` checks the files packaged in checklists/data.
- ``hash FILE...``: prints the content hash of each valid file.
- ``diff OLD NEW``: prints the item diff of two valid files as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import ChecklistError
from .loader import load_checklist
from .scoring import iter_items
from .tools import content_hash, diff, shipped_checklists


def _validate(files: list[str]) -> int:
    failed = False
    for name in files:
        try:
            doc = load_checklist(name)
        except ChecklistError as exc:
            failed = True
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            print(f"FAILED {name}: {len(exc.problems)} 个问题", file=sys.stderr)
            continue
        items = sum(1 for _ in iter_items(doc))
        print(f"OK {name} ({doc['code']} v{doc['version']}, {len(doc['sections'])} sections, "
              f"{items} items, {doc['points']} points, sha256 {content_hash(doc)})")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checklists", description="检查清单工具")
    sub = parser.add_subparsers(dest="command", required=True)
    p_val = sub.add_parser("validate", help="校验清单文件")
    p_val.add_argument("files", nargs="*")
    p_val.add_argument("--shipped", action="store_true", help="校验随软件发布的清单")
    p_hash = sub.add_parser("hash", help="输出清单内容哈希")
    p_hash.add_argument("files", nargs="+")
    p_diff = sub.add_parser("diff", help="比较两个清单版本")
    p_diff.add_argument("old")
    p_diff.add_argument("new")
    args = parser.parse_args(argv)

    if args.command == "validate":
        files = list(args.files) + ([str(p) for p in shipped_checklists()] if args.shipped else [])
        if not files:
            parser.error("validate 需要至少一个文件（或 --shipped）")
        return _validate(files)
    try:
        if args.command == "hash":
            for name in args.files:
                print(f"{content_hash(load_checklist(name))}  {name}")
            return 0
        result = diff(load_checklist(args.old), load_checklist(args.new))
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    except ChecklistError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
