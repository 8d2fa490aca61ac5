"""`python -m telli_mcp.contract --guesses`: list every place where the contract had to guess, one a line."""

from __future__ import annotations

import argparse
import sys

from . import load_contract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telli_mcp.contract", description=__doc__)
    parser.add_argument("--guesses", action="store_true", help="list the guesses (where the docs say unknown)")
    parser.add_argument("--operations", action="store_true", help="list the documented operations")
    args = parser.parse_args(argv)
    contract = load_contract()
    if args.operations:
        for operation in contract.operations:
            sys.stdout.write(f"{operation.method:6} {operation.path}  ({operation.operation_id})\n")
    if args.guesses or not args.operations:
        for guess in contract.guesses():
            sys.stdout.write(f"{guess.where}\n    {guess.note}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
