"""`telli-mcp dnc add|remove|list|import|export`: the account's do-not-call list from a terminal or a script.

It is the list every dial path of telli-mcp checks (the MCP tools and `telli-mcp campaign start`), kept where the
campaign ledger is (the shared database when TELLI_MCP_DATABASE_URL names one, else a file beside it) and scoped
to the account of the key in TELLI_API_KEY (its fingerprint; the key is never printed). Numbers are given with
their country code (`+49 30 5550101`, `+1 (212) 555-0101`) and stored in E.164, so every spelling of a number is
one entry.

- `add NUMBER... [--reason TEXT]`: put numbers on the list (all or none: one invalid number adds nothing).
- `remove NUMBER... [--yes]`: take them off, which lets them be called again: asks for a typed "yes" on a
  terminal, and without one needs `--yes`.
- `list [--json]`: every entry, in number order.
- `import FILE [--reason TEXT]`: a CSV file (a column named phone_number, phone or number, or a single
  column; comma or semicolon) or a text file with one number per line. The valid numbers are added; invalid
  lines are reported by line number and make the exit status 1.
- `export [FILE]`: every entry as CSV (phone_number, reason, source, added_at) to stdout or FILE.

Exit codes: 0 done; 1 invalid input or a refusal (nothing changed, except by an import: its valid lines);
2 without an API key. It never loads `mcp`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from telli_mcp.bounded import ITEMS_SHOWN, clip, more
from telli_mcp.cli_flags import add_sandbox_flag
from telli_mcp.text import inline

if TYPE_CHECKING:
    from telli_mcp.config import Settings
    from telli_mcp.do_not_call import Entry, TenantList

__all__ = ["add_dnc_parser", "run_dnc_command"]

MAX_IMPORT_BYTES: Final = 64 * 1024 * 1024
"""Largest file `import` reads (about three million numbers)."""
PHONE_COLUMNS: Final = ("phone_number", "phone", "number")
"""Header names of the column `import` reads, in order of preference (case and spaces do not matter)."""
EXPORT_COLUMNS: Final = ("phone_number", "reason", "source", "added_at")
CLI_SOURCE: Final = "cli"
"""The source recorded for numbers added with `dnc add`."""


def add_dnc_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dnc = commands.add_parser("dnc", help="the do-not-call list: numbers telli-mcp never dials")
    add_sandbox_flag(dnc, "the sandbox account's list (in memory unless TELLI_MCP_DATA_DIR is set)")
    actions = dnc.add_subparsers(dest="dnc_command", required=True)
    add = actions.add_parser("add", help="put numbers on the list")
    add.add_argument("numbers", nargs="+", metavar="NUMBER", help="with country code, e.g. +49 30 5550101")
    add.add_argument("--reason", help="why (kept with each number)")
    remove = actions.add_parser("remove", help="take numbers off the list (they can be called again)")
    remove.add_argument("numbers", nargs="+", metavar="NUMBER")
    remove.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    listing = actions.add_parser("list", help="every number on the list")
    listing.add_argument("--json", action="store_true", help="print machine-readable JSON")
    imported = actions.add_parser("import", help="add the numbers of a CSV or text file")
    imported.add_argument("file", type=Path, help="CSV (phone_number/phone/number column) or one number per line")
    imported.add_argument("--reason", help="why (kept with each number)")
    export = actions.add_parser("export", help="write the list as CSV")
    export.add_argument("file", type=Path, nargs="?", help="where (default: stdout)")


def run_dnc_command(args: argparse.Namespace) -> int:
    """Run `telli-mcp dnc <command>`; returns the exit status."""
    from telli_mcp.backend import SANDBOX_NOTICE, open_backend
    from telli_mcp.client import key_fingerprint
    from telli_mcp.local_db import IN_MEMORY

    backend = open_backend(_settings(args), sandbox_speed=0)
    if backend.api_key is None:
        print("TELLI_API_KEY is not set (or use --sandbox).", file=sys.stderr)
        return 2
    if backend.sandbox is not None:
        print(SANDBOX_NOTICE, file=sys.stderr)
        if backend.ledger_path == IN_MEMORY:
            print(
                "The sandbox keeps this list in memory until the command ends (TELLI_MCP_DATA_DIR keeps it).",
                file=sys.stderr,
            )
    from telli_mcp.database import DatabaseUnavailable

    lists = backend.do_not_call
    try:
        return _COMMANDS[args.dnc_command](lists.for_tenant(key_fingerprint(backend.api_key.get_secret_value())), args)
    except DatabaseUnavailable as err:
        print(err, file=sys.stderr)  # names the database without its password; nothing was changed
        return 1
    finally:
        lists.close()


def _settings(args: argparse.Namespace) -> Settings:
    from telli_mcp.config import Settings

    return Settings().model_copy(update={"sandbox": True} if getattr(args, "sandbox", False) else {})


# ---- numbers ---------------------------------------------------------------------------------------------------


def _normalised(raws: Sequence[str]) -> tuple[list[str], list[str]]:
    """The E.164 form of each of `raws`, and what is wrong with the ones that are not phone numbers."""
    from telli_mcp.do_not_call import normalise_numbers

    numbers, invalid = normalise_numbers(raws)
    return numbers, [clip(inline(str(err)), 200) for _, err in invalid]  # the error quotes the number


def _all_or_nothing(raws: Sequence[str], done: str) -> list[str] | None:
    """Every one of `raws` in E.164; None (after saying which are not phone numbers) if any is not one."""
    numbers, problems = _normalised(raws)
    if problems:
        print(f"Nothing {done}: not phone numbers (write +<country code>...):", file=sys.stderr)
        _report_invalid(problems)
        return None
    return numbers


def _report_invalid(problems: Sequence[str]) -> None:
    for problem in problems[:ITEMS_SHOWN]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > ITEMS_SHOWN:
        print(f"  {more(len(problems) - ITEMS_SHOWN)}", file=sys.stderr)


def _joined(numbers: Sequence[str]) -> str:
    shown = ", ".join(numbers[:ITEMS_SHOWN])
    return f"{shown} {more(len(numbers) - ITEMS_SHOWN)}".rstrip()


# ---- add, remove -----------------------------------------------------------------------------------------------


def _add(tenant: TenantList, args: argparse.Namespace) -> int:
    numbers = _all_or_nothing(args.numbers, "added")
    if numbers is None:
        return 1
    added = tenant.add(numbers, reason=_reason(args.reason), source=CLI_SOURCE)
    _say_added(added.added, added.already)
    return 0


def _reason(text: str | None) -> str | None:
    return None if text is None or not text.strip() else text.strip()


def _say_added(added: Sequence[str], already: Sequence[str]) -> None:
    if added:
        print(f"Added {len(added)} to the do-not-call list: {_joined(added)}")
    if already:
        print(f"Already on the list ({len(already)}, unchanged): {_joined(already)}")


def _remove(tenant: TenantList, args: argparse.Namespace) -> int:
    numbers = _all_or_nothing(args.numbers, "removed")
    if numbers is None:
        return 1
    blocked = tenant.blocked(numbers)
    on_list = [number for number in dict.fromkeys(numbers) if number in blocked]
    if not on_list:
        print(f"None of them is on the do-not-call list: {_joined(numbers)}")
        return 0
    if not _confirmed(on_list, args):
        print("Nothing removed.", file=sys.stderr)
        return 1
    removed = tenant.remove(on_list)
    print(f"Removed {len(removed)} from the do-not-call list (they can be called again): {_joined(removed)}")
    missing = [number for number in dict.fromkeys(numbers) if number not in on_list]
    if missing:
        print(f"Not on the list: {_joined(missing)}")
    return 0


def _confirmed(numbers: Sequence[str], args: argparse.Namespace) -> bool:
    """Removing lets telli-mcp dial these numbers again: a typed "yes" on a terminal, else `--yes`."""
    print(
        f"Remove {len(numbers)} number(s) from the do-not-call list: {_joined(numbers)}. Campaigns and calls "
        "may then dial them.",
        file=sys.stderr,
    )
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("Not a terminal: pass --yes to remove them.", file=sys.stderr)
        return False
    return input("Type yes to remove them: ").strip().lower() == "yes"


# ---- list, export ----------------------------------------------------------------------------------------------


def _list(tenant: TenantList, args: argparse.Namespace) -> int:
    if args.json:
        # {"count": N, "entries": [{phone_number, reason, source, added_at}, ...]}
        entries = [entry.model_dump(mode="json") for entry in tenant.entries()]
        print(json.dumps({"count": len(entries), "entries": entries}, indent=2))
        return 0
    if tenant.count() == 0:
        print("The do-not-call list is empty. Add numbers with: telli-mcp dnc add NUMBER")
        return 0
    rows = [_row(entry) for entry in tenant.entries()]
    widths = [max(len(header), *(len(row[i]) for row in rows)) for i, header in enumerate(_HEADERS)]
    for row in [list(_HEADERS), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"{len(rows)} number(s)")
    return 0


_HEADERS = ("Phone number", "Reason", "Source", "Added")


def _row(entry: Entry) -> list[str]:
    added = entry.added_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return [entry.phone_number, clip(inline(entry.reason or "-"), 60), inline(entry.source), added]


def _export(tenant: TenantList, args: argparse.Namespace) -> int:
    if args.file is None:
        _write_csv(tenant.entries(), sys.stdout)
        return 0
    with args.file.open("w", encoding="utf-8", newline="") as out:
        count = _write_csv(tenant.entries(), out)
    print(f"Exported {count} number(s) to {inline(str(args.file))}", file=sys.stderr)
    return 0


def _write_csv(entries: Iterable[Entry], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for entry in entries:
        # One line per entry, without control characters: the reason is free text (typed by a person or a
        # model), and the export is read in terminals and spreadsheets.
        reason = inline(entry.reason) if entry.reason is not None else ""
        writer.writerow([entry.phone_number, reason, inline(entry.source), entry.added_at.isoformat()])
        count += 1
    return count


# ---- import ----------------------------------------------------------------------------------------------------


@dataclass
class Parsed:
    """What `import` read from a file: the numbers (E.164) and the lines it could not read."""

    numbers: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, too big, no phone column)."""


def _import(tenant: TenantList, args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        parsed = parse_numbers(_read(path))
    except ImportFileError as err:
        print(f"Nothing imported from {inline(str(path))}: {err}", file=sys.stderr)
        return 1
    if parsed.invalid:
        print(f"{len(parsed.invalid)} line(s) of {inline(path.name)} are not phone numbers:", file=sys.stderr)
        _report_invalid(parsed.invalid)
    if not parsed.numbers:
        print(f"Nothing imported: no phone number in {inline(str(path))}.", file=sys.stderr)
        return 1
    added = tenant.add(parsed.numbers, reason=_reason(args.reason), source=f"import {path.name}")
    _say_added(added.added, added.already)
    if parsed.invalid:
        print("The lines above were not imported; fix them and import the file again.", file=sys.stderr)
        return 1
    return 0


def _read(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_IMPORT_BYTES + 1)
    except OSError as err:
        raise ImportFileError(err.strerror or type(err).__name__) from None
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Excel's UTF-8 CSV) is dropped
    except UnicodeDecodeError:
        raise ImportFileError("not UTF-8 text (save it as UTF-8 CSV)") from None


def parse_numbers(text: str) -> Parsed:
    """The numbers of a CSV text (a phone_number/phone/number column, or a single column, with or without a
    header) or of one number per line. Blank lines are skipped; each other line is a number or a problem
    naming its line.

    Raises:
        ImportFileError: several columns and none of them is a phone column.
    """
    parsed = Parsed()
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        return parsed
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ",")
    column: int | None = None
    for cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if column is None:
            column, header = _phone_column(cells)
            if header:
                continue
        value = cells[column].strip() if column < len(cells) else ""
        numbers, problems = _normalised([value]) if value else ([], ["no number"])
        parsed.numbers += numbers
        parsed.invalid += [f"line {rows.line_num}: {problem}" for problem in problems]
    return parsed


def _phone_column(first: Sequence[str]) -> tuple[int, bool]:
    """The index of the phone column, and whether `first` (the first non-blank row) is a header."""
    names = [" ".join(cell.strip().lower().replace("_", " ").split()) for cell in first]
    for wanted in (name.replace("_", " ") for name in PHONE_COLUMNS):
        if wanted in names:
            return names.index(wanted), True
    if len(first) > 1:
        found = ", ".join(clip(inline(cell), 40) for cell in first)
        raise ImportFileError(f"no {', '.join(PHONE_COLUMNS)} column (found: {found})")
    # One column: a first line without a digit is its header ("Telefon", "mobile"), anything else a number.
    return 0, not any(char.isdigit() for char in first[0])


_COMMANDS = {"add": _add, "remove": _remove, "list": _list, "import": _import, "export": _export}
