"""`python -m media_host`: serve the media host (uvicorn; `--workers` or MEDIA__WORKERS processes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from media_host.serving import engines_factory, serve_media
from shared.settings import ProcessRole, SettingsError, load_settings
from shared.telemetry.logs import LEVELS

CONTAINER_MARKERS = ("CONTAINER_APP_NAME", "KUBERNETES_SERVICE_HOST")


def default_bind_address() -> str:
    """Every interface in a container (the platform's ingress reaches it there), loopback elsewhere."""
    in_container = any(os.environ.get(name) for name in CONTAINER_MARKERS)
    return "0.0.0.0" if in_container else "127.0.0.1"  # noqa: S104 (a container's own interface)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m media_host", description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--host",
        default=default_bind_address(),
        help="interface to listen on (default: 0.0.0.0 in a container, else 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--workers", type=_positive, default=None, help="processes (default: MEDIA__WORKERS, 1)"
    )
    parser.add_argument("--overrides", type=Path, default=None, help="JSON file of settings overrides")
    parser.add_argument("--engines", default=None, help="module:function building the speech engines")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=LEVELS,
        help="debug, info (default: calls, turns), warning, error",
    )
    args = parser.parse_args()
    try:  # every worker loads the same settings and engines: check them once, here, readably
        overrides = json.loads(args.overrides.read_text()) if args.overrides else {}
        load_settings(**{"process_role": ProcessRole.MEDIA, **overrides})
        engines_factory(args.engines)
    except (SettingsError, ValueError, OSError, ImportError) as exc:
        print(f"python -m media_host: {exc}", file=sys.stderr)
        return 2
    serve_media(
        host=args.host,
        port=args.port,
        workers=args.workers,
        overrides_file=args.overrides,
        engines=args.engines,
        log_level=args.log_level,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
