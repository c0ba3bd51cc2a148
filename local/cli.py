"""`callcenter`: the developer CLI (also `python -m local`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from shared.settings import Settings, SettingsError, load_settings


def _describe(settings: Settings) -> dict[str, object]:
    return {
        "mode": settings.mode.value,
        "store": settings.store_backend.value,
        "cache": settings.cache_backend.value,
        "flags": settings.flags_backend.value,
        "llm_fast": settings.llm.fast.configured,
        "llm_slow": settings.llm.slow.configured,
        "settings": json.loads(settings.model_dump_json()),  # SecretStr fields print as '**********'
    }


def cmd_settings(_args: argparse.Namespace) -> int:
    settings = load_settings()
    print(json.dumps(_describe(settings), indent=2))
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 (a development dependency)

    from blueprints.api import create_api  # noqa: PLC0415

    settings = load_settings()
    description = _describe(settings)
    print(
        f"Call Center AI API on http://{args.host}:{args.port}/api "
        f"(mode={description['mode']}, store={description['store']}, cache={description['cache']}, "
        f"flags={description['flags']})",
        flush=True,
    )
    print(f"  liveness:  http://{args.host}:{args.port}/api/health/liveness", flush=True)
    print(f"  readiness: http://{args.host}:{args.port}/api/health/readiness", flush=True)
    uvicorn.run(create_api(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter", description="Call Center AI developer tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    settings = commands.add_parser("settings", help="validate the settings and print the chosen adapters")
    settings.set_defaults(handler=cmd_settings)

    dev = commands.add_parser("dev", help="run the function app's HTTP API locally under uvicorn")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=7071)
    dev.add_argument("--log-level", default="info")
    dev.set_defaults(handler=cmd_dev)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except SettingsError as exc:
        print(f"callcenter: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
