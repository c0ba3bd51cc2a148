"""`python -m local.acs_simulator`: run the ACS simulator alone on loopback until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence

from local.acs_simulator.server import AcsSimulator
from local.acs_simulator.state import DEFAULT_AUDIENCE


def _event_grid_url(value: str) -> tuple[str, str]:
    event_type, separator, url = value.partition("=")
    if not separator or not url:
        raise argparse.ArgumentTypeError("expected EVENT_TYPE=URL (EVENT_TYPE may be *)")
    return event_type, url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.acs_simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--access-key", default=None, help="base64 key the SDK signs with (default: random)")
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE, help="`aud` of the callback JWTs")
    parser.add_argument(
        "--event-grid-url",
        type=_event_grid_url,
        action="append",
        default=[],
        metavar="TYPE=URL",
        help="subscriber per event type, e.g. Microsoft.Communication.IncomingCall=http://127.0.0.1:7071/...",
    )
    parser.add_argument("--recordings-dir", default=None, help="where recordings and call WAVs go")
    parser.add_argument("--speed", type=float, default=1.0, help="media pacing: 1 = real time, 0 = flat out")
    args = parser.parse_args(argv)
    simulator = AcsSimulator(
        access_key=args.access_key,
        audience=args.audience,
        event_grid_urls=dict(args.event_grid_url),
        recordings_dir=args.recordings_dir,
        speed=args.speed,
        host=args.host,
        port=args.port,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwind the `with`: the simulator stops cleanly
    with simulator as sim:
        print(f"ACS simulator on {sim.endpoint}", flush=True)
        print(f"  access key: {sim.access_key}", flush=True)
        print(f"  JWKS: {sim.jwks_url} (iss {sim.issuer}, aud {sim.audience})", flush=True)
        print(f"  inspect: {sim.endpoint}/sim/calls, {sim.endpoint}/sim/events", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
