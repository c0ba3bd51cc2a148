"""`callcenter`: the developer CLI (also `python -m local`)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local.client import ClientError, DevStack
from local.host_settings import HostIndexingError
from shared.settings import Settings, SettingsError, load_settings

DATA = Path(".data")
LEVELS = ("debug", "info", "warning", "error")  # shared.telemetry.logs.LEVELS
LOG_LEVELS = {"dev": "info", "demo": "warning", "simulate": "warning", "chat": "warning"}  # defaults
DEFAULT_SIMULATOR_PORT = 7072


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
        "search": settings.search_backend.value,
        "llm_fast": settings.llm.fast.configured,
        "llm_slow": settings.llm.slow.configured,
        "translator": bool(settings.translator.endpoint),  # phrases of a language without a list
        "settings": json.loads(settings.model_dump_json()),  # SecretStr fields print as '**********'
    }


def cmd_settings(_args: argparse.Namespace) -> int:
    settings = load_settings()
    print(json.dumps(_describe(settings), indent=2))
    return 0


def _language(value: str) -> str:
    """A call language tag such as "en-US", "fr-FR" or "es-ES" (other than English and French, the
    phrases are translated when a Translator is configured)."""
    import re  # noqa: PLC0415

    if not re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a language tag like en-US, fr-FR or es-ES")
    return value


def _busy_port(host: str, ports: dict[str, int]) -> str | None:
    """The first of `ports` something already listens on, described for the error line."""
    import socket  # noqa: PLC0415

    for option, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                return f"port {port} on {host} is already in use ({option})"
    return None


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def cmd_dev(args: argparse.Namespace) -> int:
    from local.dev import LocalStack  # noqa: PLC0415 (starts servers: only for this command)

    load_settings()  # fail early, with every problem listed, before starting anything
    ports = {"--port": args.port, "--media-port": args.media_port, "--simulator-port": args.simulator_port}
    busy = _busy_port(args.host, ports)
    if busy is not None:
        print(
            f"callcenter dev: {busy}: is `make dev` already running? Stop it (Ctrl-C) or choose another "
            "port with --port, --media-port or --simulator-port.",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as Ctrl-C does (and removes dev.json)
    stack = LocalStack(
        api_port=args.port,
        media_port=args.media_port,
        simulator_port=args.simulator_port,
        host=args.host,
        data_dir=args.data,
    )
    try:
        stack.run_forever()
    except (RuntimeError, ValueError) as exc:  # a server that cannot start, unreadable local keys
        print(f"callcenter dev: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from local.chat import load_claim_schema, run_chat  # noqa: PLC0415

    settings = load_settings()
    if args.scenarios:
        return _chat_scenarios(args.scenarios)
    try:
        schema = load_claim_schema(args.claim) if args.claim else None
    except ValueError as exc:
        print(f"callcenter chat: {exc}", file=sys.stderr)
        return 2
    asyncio.run(run_chat(settings, phone=args.phone, lang=args.lang, schema=schema, out=sys.stdout))
    return 0


def _chat_scenarios(paths: list[Path]) -> int:
    """`callcenter chat --scenarios`: the scenario files typed into the chat, with the text figure."""
    from local.simulate import simulate  # noqa: PLC0415

    try:
        return simulate(paths, speed=1.0, json_path=None, echo=_echo, with_llm=False, modes=("text",))
    except ValueError as exc:
        print(f"callcenter chat: {exc}", file=sys.stderr)
        return 2


def _echo(line: str) -> None:
    print(line, flush=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    from local.scenario_pool import default_jobs  # noqa: PLC0415
    from local.simulate import parse_caller_voices, simulate  # noqa: PLC0415 (loads speech engines)

    load_settings()
    if args.jobs is not None and args.jobs < 1:
        print("callcenter simulate: --jobs must be at least 1", file=sys.stderr)
        return 2
    jobs = default_jobs() if args.jobs is None else args.jobs
    _echo(
        "Each scenario is a whole phone call in real time (about a minute each), "
        f"{jobs} call{'s' if jobs > 1 else ''} at a time (--jobs; barge-ins alone)."
    )
    try:
        return simulate(
            args.scenarios,
            speed=args.speed,
            json_path=args.json,
            echo=_echo,
            with_llm=args.with_llm,
            keep=args.keep,
            modes=("audio", "text") if args.mode == "both" else (args.mode,),
            jobs=jobs,
            caller_piper_voices=parse_caller_voices(args.caller_voice),
            strict=args.strict,
        )
    except ValueError as exc:
        print(f"callcenter simulate: {exc}", file=sys.stderr)
        return 2


def cmd_demo(args: argparse.Namespace) -> int:
    from local.simulate import demo  # noqa: PLC0415 (loads speech engines)

    load_settings()
    return demo(echo=_echo, data_dir=args.data)


def cmd_index(args: argparse.Namespace) -> int:
    from local.indexing import index_command  # noqa: PLC0415

    return index_command(
        load_settings(), args.folders, out=sys.stdout, progress=not args.quiet, force=args.force
    )


def _client_stack(args: argparse.Namespace) -> tuple[Settings, DevStack]:
    from local.client import dev_stack  # noqa: PLC0415

    return load_settings(), dev_stack(args.data)


def cmd_call(args: argparse.Namespace) -> int:
    from local.chat import load_claim_schema  # noqa: PLC0415
    from local.client import api_key, place_call, ring_bot  # noqa: PLC0415

    settings, stack = _client_stack(args)
    if args.to is None:
        ring_bot(stack, caller=args.caller, bot_phone=settings.acs.phone_number, echo=_echo)
    else:
        claim = None
        if args.claim is not None:
            claim = [field.model_dump(mode="json") for field in load_claim_schema(args.claim).root]
        key = api_key(settings, args.data)
        place_call(
            stack,
            key,
            to=args.to,
            bot_name=args.bot_name,
            company=args.company,
            task=args.task,
            claim=claim,
            echo=_echo,
        )
    _echo('next: callcenter say "Hello, my car was damaged this morning."  (speaks as the caller)')
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from local.client import say  # noqa: PLC0415

    _settings, stack = _client_stack(args)
    say(stack, " ".join(args.text), call=args.call, lang=args.lang, echo=_echo)
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    from local.client import api_key  # noqa: PLC0415

    print(api_key(load_settings(), args.data))
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("call-center-ai")
    except PackageNotFoundError:
        return "unknown (not installed: run `make install`)"


EXAMPLES = """\
examples:
  callcenter demo                          one whole phone call, offline, then its report link
  callcenter dev                           everything on loopback until Ctrl-C (prints URLs and key)
  callcenter call                          (with dev running) a caller rings the bot
  callcenter say "My name is John Smith."  speak a line as the caller of the newest call
  callcenter call --to +33612345678        the bot calls a number (POST /api/call)
  callcenter key                           the local API key (x-functions-key, ?key= of the report)
  callcenter chat --lang fr-FR             talk with the assistant in text
  callcenter simulate scenarios/goodbye-fr.yaml   one scenario as a phone call

`callcenter COMMAND --help` describes each command's options.
"""


def _simulate_parser(commands: Any) -> None:
    """`callcenter simulate`: its options."""
    simulate = commands.add_parser(
        "simulate", help="run scenario files (YAML) as phone calls over real audio"
    )
    simulate.add_argument("scenarios", nargs="+", type=Path, help="scenario files or folders")
    simulate.add_argument(
        "--speed", type=float, default=1.0, help="caller audio pacing (2 = twice real time)"
    )
    simulate.add_argument(
        "--jobs",
        type=int,
        help="phone calls at a time, each in real time (default: one per core; 1: one by one, "
        "transcripts printed live); scenarios with a barge-in always run alone",
    )
    simulate.add_argument("--json", type=Path, help="write the JSON summary to this file")
    simulate.add_argument("--with-llm", action="store_true", help="also run scenarios marked `llm: true`")
    simulate.add_argument(
        "--keep", type=Path, help="keep the call documents in this folder (inspect them after)"
    )
    simulate.add_argument(
        "--mode",
        choices=["both", "audio", "text"],
        default="both",
        help="phone calls over audio, the same scenarios through `callcenter chat`, or both (default)",
    )
    simulate.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any scenario fails (default: when a figure is under its target or a "
        "scenario breaks off or fails a check other than a claim field or the call's ending)",
    )
    simulate.add_argument(
        "--caller-voice",
        action="append",
        default=[],
        metavar="LANG=PATH",
        help="a piper voice (.onnx, its .onnx.json beside it) that says the callers' lines in this "
        "language, e.g. fr=fr_FR-voice.onnx (repeatable; default: piper for English, espeak-ng else)",
    )
    simulate.set_defaults(handler=cmd_simulate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcenter",
        description="Call Center AI developer tools: run the call center locally, call it, test it.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    settings = commands.add_parser("settings", help="validate the settings and print the chosen adapters")
    settings.set_defaults(handler=cmd_settings)

    dev = commands.add_parser("dev", help="run the function app and the ACS simulator locally")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=7071, help="function app port (default 7071)")
    dev.add_argument("--media-port", type=int, default=8765, help="media host port (default 8765)")
    dev.add_argument(
        "--simulator-port", type=int, default=DEFAULT_SIMULATOR_PORT, help="ACS simulator port (default 7072)"
    )
    dev.add_argument("--data", type=Path, default=DATA, help="where calls, recordings and local keys go")
    dev.set_defaults(handler=cmd_dev)

    call = commands.add_parser(
        "call",
        help="with `callcenter dev` running: a caller rings the bot, or (--to) the bot calls a number",
    )
    call.add_argument("--to", type=_e164, help="the bot calls this number (POST /api/call); else it is rung")
    call.add_argument("--from", dest="caller", type=_e164, help="the caller's number when ringing the bot")
    call.add_argument("--bot-name", default="Amélie", help="the bot's name on an outbound call")
    call.add_argument("--company", default="Contoso", help="the bot's company on an outbound call")
    call.add_argument("--task", help="what the bot does on an outbound call")
    call.add_argument("--claim", type=Path, help="claim schema file (JSON or YAML list of {name, type})")
    call.add_argument("--data", type=Path, default=DATA, help="the data folder `callcenter dev` runs on")
    call.set_defaults(handler=cmd_call)

    say = commands.add_parser("say", help="with `callcenter dev` running: speak a line as the caller")
    say.add_argument("text", nargs="+", help="what the caller says")
    say.add_argument("--call", default="latest", help="the simulator's call connection id (default: newest)")
    say.add_argument("--lang", default="en-US", help="the caller's language (en-US, fr-FR...)")
    say.add_argument("--data", type=Path, default=DATA, help="the data folder `callcenter dev` runs on")
    say.set_defaults(handler=cmd_say)

    key = commands.add_parser("key", help="print the local API key (kept in the data folder)")
    key.add_argument("--data", type=Path, default=DATA, help="the data folder `callcenter dev` runs on")
    key.set_defaults(handler=cmd_key)

    _simulate_parser(commands)

    demo = commands.add_parser("demo", help="one whole phone call, offline, with the live transcript")
    demo.add_argument(
        "--data", type=Path, default=Path(".data/demo"), help="where the demo's calls are stored"
    )
    demo.set_defaults(handler=cmd_demo)

    chat = commands.add_parser("chat", help="talk with the assistant in the terminal (text instead of voice)")
    chat.add_argument("--phone", default="+33612345678", type=_e164, help="the caller's number (E.164)")
    chat.add_argument(
        "--lang",
        type=_language,
        help="conversation language (default en-US; en-US and fr-FR have phrase lists, others are "
        "translated with TRANSLATOR__ENDPOINT, else English)",
    )
    chat.add_argument("--claim", type=Path, help="claim schema file (JSON or YAML list of {name, type})")
    chat.add_argument(
        "--scenarios", nargs="+", type=Path, help="play scenario files (or folders) as typed conversations"
    )
    chat.set_defaults(handler=cmd_chat)

    index = commands.add_parser(
        "index", help="load documents (md, txt, pdf, docx, html) into the knowledge index the bot searches"
    )
    index.add_argument("folders", nargs="+", type=Path, help="folders of documents (searched recursively)")
    index.add_argument("--quiet", action="store_true", help="no progress bar (the summary is printed)")
    index.add_argument(
        "--force", action="store_true", help="re-read unchanged files too (new embedding model)"
    )
    index.set_defaults(handler=cmd_index)
    for name, level in LOG_LEVELS.items():  # the commands that run the call center in this process
        commands.choices[name].add_argument(
            "--log-level",
            choices=LEVELS,
            default=level,
            help=f"log lines on stderr: debug, info, warning, error (default {level}; LOG_FORMAT=json: JSON)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "log_level", None):
        from shared.telemetry.setup import LOCAL, configure_process  # noqa: PLC0415 (these commands only)

        configure_process(LOCAL, log_level=args.log_level)
    try:
        result: int = args.handler(args)
    except SettingsError as exc:
        print(f"callcenter: {exc}", file=sys.stderr)
        return 2
    except HostIndexingError as exc:  # what the Functions host would refuse, in its words
        print(f"callcenter {args.command}: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        print(f"callcenter {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
