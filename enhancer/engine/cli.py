"""The command line: `python -m enhancer.engine` and `python manage.py enhance`.

Both share this module; the Django command only swaps in the configuration
read from the FACE_ENHANCER_* settings. With --json the last line of standard
output is one JSON object (the result summary, or {"error": ...}), so scripts
can read it whatever was printed before.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from enhancer.engine.config import EngineConfig, EnhanceOptions
from enhancer.engine.encoding import EXTENSIONS
from enhancer.engine.errors import EngineError, InvalidOption
from enhancer.engine.pipeline import get_enhancer

if TYPE_CHECKING:
    # sys.stdout, or a Django command's OutputWrapper: anything with write(str).
    from _typeshed import SupportsWrite


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="JPEG, PNG or WebP image to enhance")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="where to write the enhanced image"
    )
    parser.add_argument(
        "--aria-ratio",
        type=float,
        default=0.5,
        help="area enhanced around each face: 0 = inner face, 1 = whole head (default 0.5)",
    )
    parser.add_argument(
        "--max-face-count",
        type=int,
        default=10,
        help="enhance at most this many faces, largest first (default 10)",
    )
    parser.add_argument(
        "--fidelity",
        type=float,
        default=None,
        help="0 = the network's face, 1 = the original face (default: the configured value)",
    )
    parser.add_argument("--preview", type=Path, help="also write the JPEG preview here")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


def run(
    args: argparse.Namespace, config: EngineConfig, out: SupportsWrite[str], err: SupportsWrite[str]
) -> int:
    """Enhance one file as `args` says; returns the process exit status."""
    options = EnhanceOptions(
        aria_ratio=args.aria_ratio, max_face_count=args.max_face_count, fidelity=args.fidelity
    )
    try:
        data = args.input.read_bytes()
    except OSError as e:
        return _fail(args, out, err, f"Cannot read {args.input}: {e.strerror}.", "InputError")
    try:
        options.validate(config)
        result = get_enhancer(config).enhance(data, options)
    except InvalidOption as e:
        return _fail(args, out, err, e.message, type(e).__name__, field=e.field)
    except EngineError as e:
        return _fail(args, out, err, e.message, type(e).__name__)

    args.output.write_bytes(result.image_bytes)
    if args.preview:
        args.preview.write_bytes(result.preview_bytes)
    suffix = args.output.suffix.lower().lstrip(".")
    if suffix and suffix not in (result.extension, "jpeg" if result.format == "JPEG" else ""):
        err.write(
            f"note: {args.output} holds a {result.format} image (the input's format), "
            f"whatever its extension says\n"
        )
    if args.json:
        out.write(json.dumps(result.to_dict()) + "\n")
    else:
        out.write(
            f"{result.faces_enhanced} of {result.faces_detected} faces enhanced in "
            f"{result.timings['total']:.2f} s -> {args.output} "
            f"({result.format}, {result.width}x{result.height})\n"
        )
    return 0


def _fail(
    args: argparse.Namespace,
    out: SupportsWrite[str],
    err: SupportsWrite[str],
    message: str,
    kind: str,
    field: str | None = None,
) -> int:
    err.write(f"error: {message}\n")
    if args.json:
        payload: dict[str, str] = {"error": message, "type": kind}
        if field:
            payload["field"] = field
        out.write(json.dumps(payload) + "\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m enhancer.engine",
        description="Enhance the faces in an image (engine defaults; no Django needed).",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args, EngineConfig(), sys.stdout, sys.stderr)


__all__ = ["EXTENSIONS", "add_arguments", "main", "run"]
