"""Reading an invitations CSV file: bytes to rows, with every problem found on the way and the
line each row starts on. Pure parsing (no database); accounts/invitations.py checks the rows
against the account and imports them.

Columns (header required, any order, case and spaces ignored): email, name or
first_name + last_name, role (default member), regions (codes separated by ; or spaces; empty:
every region the account uses), groups (names separated by ;).
"""

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

MAX_ROWS = 5000
# 5,000 rows of generous width; a larger upload is refused before it is parsed.
MAX_BYTES = 5 * 1024 * 1024
COLUMNS = ("email", "name", "first_name", "last_name", "role", "regions", "groups")
ALIASES = {
    "e_mail": "email", "email_address": "email", "full_name": "name", "given_name": "first_name",
    "family_name": "last_name", "surname": "last_name", "region": "regions", "group": "groups",
}  # fmt: skip
EXAMPLE_HEADER = "email,name,role,regions,groups"


@dataclass(frozen=True)
class RowError:
    line: int  # the line of the file where the row starts; 0 for the file as a whole
    email: str
    messages: tuple[str, ...]


class InvitationImportError(ValidationError):
    """Nothing was imported; `rows` holds every problem, by line."""

    def __init__(self, rows: list[RowError]):
        self.rows = rows
        super().__init__(
            [
                f"Line {row.line}: {message}" if row.line else message
                for row in rows
                for message in row.messages
            ]
        )


def _fail(message: str, line: int = 0) -> InvitationImportError:
    return InvitationImportError([RowError(line, "", (message,))])


@dataclass
class CsvRow:
    line: int
    email: str
    first_name: str
    last_name: str
    role: str
    region_codes: list[str] | None  # None: the cell was empty (every region)
    group_names: list[str]
    problems: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    rows: list[CsvRow]
    errors: list[RowError]  # about the file as a whole (too many rows)


def read_text(file) -> str:
    """The upload (a file object, bytes or str) as text, or InvitationImportError."""
    data = file.read(MAX_BYTES + 1) if hasattr(file, "read") else file
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_BYTES:
        raise _fail(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
    try:
        text = data.decode("utf-8-sig")  # Excel's “CSV UTF-8” starts with a byte order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(
            f"The file is not UTF-8 text (first bad byte on line {line}); save it as “CSV UTF-8”."
        ) from exc
    if "\x00" in text:  # no database column holds a NUL character
        lines = sorted({text[:i].count("\n") + 1 for i, char in enumerate(text) if char == "\x00"})
        problem = ("The line holds a NUL character; save the file as plain CSV text.",)
        raise InvitationImportError([RowError(line, "", problem) for line in lines])
    return text


def parse(text: str) -> Parsed:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    start = 1
    try:
        for record in reader:
            # A quoted cell may span lines: a row starts just after the previous one ended.
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = _header(record, line)
            elif len(rows) >= MAX_ROWS:
                errors.append(RowError(0, "", (f"The file has more than {MAX_ROWS:,} rows; split it.",)))
                break
            else:
                rows.append(_row(record, header, line))
    except csv.Error as exc:
        raise _fail(f"The file is not valid CSV ({exc}).", reader.line_num) from exc
    if header is None:
        raise _fail(f"The file is empty; its first line must be a header such as {EXAMPLE_HEADER}.")
    return Parsed(rows, errors)


def _normal(name: str) -> str:
    name = re.sub(r"[\s-]+", "_", name.strip().lower())
    return ALIASES.get(name, name)


def _header(record: list[str], line: int) -> list[str]:
    names = [_normal(cell) for cell in record]
    problems = []
    if "email" not in names:
        if any("@" in cell for cell in record):
            problems.append(f"The first line must be a header such as {EXAMPLE_HEADER}; it looks like data.")
        else:
            problems.append(f"The header has no email column (expected e.g. {EXAMPLE_HEADER}).")
    unknown = [record[i].strip() for i, name in enumerate(names) if name and name not in COLUMNS]
    if unknown:
        problems.append(f"Unknown column(s): {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}.")
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        problems.append(f"Column(s) named twice: {', '.join(repeated)}.")
    if "name" in names and {"first_name", "last_name"} & set(names):
        problems.append("Use either a name column or first_name and last_name, not both.")
    if problems:
        raise InvitationImportError([RowError(line, "", tuple(problems))])
    return names


def _row(record: list[str], header: list[str], line: int) -> CsvRow:
    problems = []
    if any(cell.strip() for cell in record[len(header) :]):
        problems.append(f"The row has {len(record)} cells but the header only {len(header)} columns.")
    cells = {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header) if name}
    first, last = cells.get("first_name", ""), cells.get("last_name", "")
    if cells.get("name"):
        # "Mary Ann Smith": the last word is the family name; use the two columns to say otherwise.
        parts = cells["name"].rsplit(maxsplit=1)
        first, last = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")
    regions = cells.get("regions", "")
    return CsvRow(
        line=line,
        email=cells.get("email", "").lower(),
        first_name=first,
        last_name=last,
        role=re.sub(r"[\s-]+", "_", cells.get("role", "").lower()) or "member",
        region_codes=[code.lower() for code in re.split(r"[;,\s]+", regions) if code] if regions else None,
        group_names=[name.strip() for name in cells.get("groups", "").split(";") if name.strip()],
        problems=problems,
    )
