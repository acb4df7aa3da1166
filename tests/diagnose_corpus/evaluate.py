"""Recall and right-cause rate of `diagnose` on the labelled corpus (samples.jsonl), per category.

    python tests/diagnose_corpus/evaluate.py [--misses]

A crash sample is recalled when its labelled category is among the categories diagnose names; it is
right when, in addition, every category named is the label or one of the sample's `also` categories.
A negative (cause null) is right when nothing is named.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

from claude_preflight import diagnose
from claude_preflight.signatures import table

SAMPLES = Path(__file__).with_name("samples.jsonl")


def load() -> list[dict]:
    return [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]


def named(text: str) -> list[str]:
    """The categories diagnose names for a pasted text, in order."""
    found = diagnose.scan_stream(io.BytesIO(text.encode("utf-8")), table())
    return [category for item in found for category in item.categories]


def judge(sample: dict, categories: list[str]) -> tuple[bool, bool]:
    label = sample["cause"]
    if label is None:
        return (not categories, not categories)
    recalled = label in categories
    return recalled, recalled and set(categories) <= {label, *sample.get("also", [])}


def report(samples: list[dict]) -> tuple[dict, list[str]]:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # samples, recalled, right
    misses = []
    for sample in samples:
        categories = named(sample["text"])
        recalled, right = judge(sample, categories)
        row = per[sample["cause"] or "(negative)"]
        row[0] += 1
        row[1] += recalled
        row[2] += right
        if not right:
            misses.append(f"{sample['id']}: label {sample['cause']}, named {categories or 'nothing'}")
    return per, misses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="list the samples named wrongly")
    args = parser.parse_args()
    per, misses = report(load())
    crashes = [v for k, v in per.items() if k != "(negative)"]
    total = [sum(v[i] for v in crashes) for i in range(3)]
    negatives = per.get("(negative)", [0, 0, 0])
    print(f"{total[0]} crash samples, {negatives[0]} negatives")
    print(
        f"recall {total[1]}/{total[0]} = {total[1] / total[0]:.0%}; right cause {total[2]}/{total[0]} = {total[2] / total[0]:.0%}"
    )
    print(f"negatives with nothing named: {negatives[2]}/{negatives[0]}")
    print(f"{'category':24} {'n':>3} {'recall':>7} {'right':>7}")
    for category, (n, recalled, right) in sorted(per.items()):
        print(f"{category:24} {n:>3} {recalled / n:>7.0%} {right / n:>7.0%}")
    if args.misses:
        print("\n".join(["", *misses]))
    sys.exit(0)


if __name__ == "__main__":
    main()
