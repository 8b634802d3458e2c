"""Verify a published dr1 draw record: ``python -m inspect_api.draws.verify record.json``.

Standard library only (runs in a bare interpreter, no Flask, no MongoDB).
Recomputes the commitment, the seed, the targets, the teams and the
amendments from the record's params, snapshot, nonce and public entropy.

Exit status: 0 and ``OK`` when everything matches; 1 and the first differing
field (``result.teams.inst00012[1]: record has 'x', recomputed 'y'``) when
not; 2 when the file cannot be read or is not a dr1 record.  ``-`` reads the
record from standard input; ``--all`` prints every difference.
"""

from __future__ import annotations

import argparse
import json
import sys

from inspect_api.draws.dr1 import DrawError, RecordError, verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inspect_api.draws.verify",
        description="验证 dr1 双随机抽取记录：重新计算承诺值、种子、抽中对象、检查组与调整记录。")
    parser.add_argument("record", help="抽取记录 JSON 文件（- 表示从标准输入读取）")
    parser.add_argument("--all", action="store_true", help="列出全部不一致之处，而不只是第一处")
    args = parser.parse_args(argv)
    try:
        if args.record == "-":
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(args.record, encoding="utf-8") as fh:
                text = fh.read()
        record = json.loads(text)
    except OSError as exc:
        print(f"无法读取记录文件：{exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, ValueError) as exc:
        print(f"记录不是有效的 UTF-8 JSON：{exc}", file=sys.stderr)
        return 2
    try:
        differences = verify(record)
    except RecordError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except DrawError as exc:  # not expected: verify reports these as differences
        print(exc.message, file=sys.stderr)
        return 1
    if not differences:
        print("OK")
        return 0
    if args.all:
        for line in differences:
            print(line)
    else:
        print(differences[0])
        if len(differences) > 1:
            print(f"（另有 {len(differences) - 1} 处不一致，加 --all 查看全部）", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
