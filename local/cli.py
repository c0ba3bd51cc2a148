"""`callcenter`: the developer CLI (also `python -m local`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.settings import Settings, SettingsError, load_settings


def _e164(value: str) -> str:
    from shared.models.call import check_e164  # noqa: PLC0415

    try:
        return check_e164(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


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
    from local.dev import LocalStack  # noqa: PLC0415 (starts servers: only for this command)

    load_settings()  # fail early, with every problem listed, before starting anything
    LocalStack(api_port=args.port, host=args.host, data_dir=args.data).run_forever()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from local.chat import load_claim_schema, run_chat  # noqa: PLC0415

    settings = load_settings()
    try:
        schema = load_claim_schema(args.claim) if args.claim else None
    except ValueError as exc:
        print(f"callcenter chat: {exc}", file=sys.stderr)
        return 2
    asyncio.run(run_chat(settings, phone=args.phone, lang=args.lang, schema=schema, out=sys.stdout))
    return 0


def _echo(line: str) -> None:
    print(line, flush=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    from local.simulate import simulate  # noqa: PLC0415 (loads speech engines)

    load_settings()
    try:
        return simulate(
            args.scenarios, speed=args.speed, json_path=args.json, echo=_echo, with_llm=args.with_llm
        )
    except ValueError as exc:
        print(f"callcenter simulate: {exc}", file=sys.stderr)
        return 2


def cmd_demo(args: argparse.Namespace) -> int:
    from local.simulate import demo  # noqa: PLC0415 (loads speech engines)

    load_settings()
    return demo(echo=_echo, data_dir=args.data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter", description="Call Center AI developer tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    settings = commands.add_parser("settings", help="validate the settings and print the chosen adapters")
    settings.set_defaults(handler=cmd_settings)

    dev = commands.add_parser("dev", help="run the function app and the ACS simulator locally")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=7071, help="function app port")
    dev.add_argument("--data", type=Path, default=Path(".data"), help="where calls and recordings go")
    dev.set_defaults(handler=cmd_dev)

    simulate = commands.add_parser(
        "simulate", help="run scenario files (YAML) as phone calls over real audio"
    )
    simulate.add_argument("scenarios", nargs="+", type=Path, help="scenario files or folders")
    simulate.add_argument(
        "--speed", type=float, default=1.0, help="caller audio pacing (2 = twice real time)"
    )
    simulate.add_argument("--json", type=Path, help="write the JSON summary to this file")
    simulate.add_argument("--with-llm", action="store_true", help="also run scenarios marked `llm: true`")
    simulate.set_defaults(handler=cmd_simulate)

    demo = commands.add_parser("demo", help="one whole phone call, offline, with the live transcript")
    demo.add_argument(
        "--data", type=Path, default=Path(".data/demo"), help="where the demo's calls are stored"
    )
    demo.set_defaults(handler=cmd_demo)

    chat = commands.add_parser("chat", help="talk with the assistant in the terminal (text instead of voice)")
    chat.add_argument("--phone", default="+33612345678", type=_e164, help="the caller's number (E.164)")
    chat.add_argument("--lang", choices=["en-US", "fr-FR"], help="conversation language (default en-US)")
    chat.add_argument("--claim", type=Path, help="claim schema file (JSON or YAML list of {name, type})")
    chat.set_defaults(handler=cmd_chat)
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
