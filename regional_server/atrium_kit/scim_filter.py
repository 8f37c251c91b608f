"""SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2), parsed by hand.

A filter becomes a small tree; `to_q` turns it into a Django `Q` over a resource's attribute map,
so the caller ANDs it with the tenant condition in SQL (an `or` can never reach another tenant);
`matches` evaluates a value filter on a JSON object (PATCH `members[value eq "…"]`).

Grammar (RFC 7644 Figure 1), precedence not > and > or:
    FILTER    = attrExp / logExp / valuePath / [not] "(" FILTER ")"
    attrExp   = attrPath SP "pr" / attrPath SP compareOp SP compValue
    valuePath = attrPath "[" valFilter "]"
    PATH      = attrPath / valuePath [subAttr]          (PATCH, §3.5.2)
"""

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q, Value
from django.db.models.functions import Length, Lower, Right, StrIndex, Substr
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual
from django.utils.dateparse import parse_datetime

COMPARE_OPS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
CORE_URN_PREFIX = "urn:ietf:params:scim:schemas:core:2.0:"


class ScimFilterError(ValueError):
    """A filter or path that does not parse or names what we cannot filter on."""


@dataclass(frozen=True)
class AttrPath:
    attr: str  # lower-cased attribute name (URN prefix removed)
    sub: str | None = None  # lower-cased sub-attribute

    @property
    def dotted(self) -> str:
        return f"{self.attr}.{self.sub}" if self.sub else self.attr


@dataclass(frozen=True)
class Compare:
    path: AttrPath
    op: str  # one of COMPARE_OPS or "pr"
    value: object = None


@dataclass(frozen=True)
class Logical:
    op: str  # "and" / "or"
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    expr: object


@dataclass(frozen=True)
class ValuePath:
    path: AttrPath
    expr: object  # a filter over the sub-attributes of `path`


@dataclass(frozen=True)
class PatchPath:
    path: AttrPath  # the attribute (sub set when the path is `attr.sub`)
    value_filter: object = None  # the `[...]` filter, if any
    sub: str | None = None  # sub-attribute after `]` (`emails[type eq "work"].value`)


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) | (?P<lbracket>\[) | (?P<rbracket>\]) |
        (?P<string>"(?:[^"\\]|\\.)*") |
        (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.:$-])) |
        (?P<word>[A-Za-z$][\w.:$-]*) |
        (?P<other>\S)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # only trailing whitespace left
            break
        kind = m.lastgroup
        if kind == "other":
            raise ScimFilterError(f"Unexpected character {m[kind]!r} at {m.start(kind)}")
        out.append((kind, m[kind]))
        pos = m.end()
    return out


def attr_path(word: str) -> AttrPath:
    name = word
    if ":" in name:
        # A fully qualified name: `urn:…:User:name.givenName` — keep what follows the schema URN.
        if not name.lower().startswith(CORE_URN_PREFIX):
            raise ScimFilterError(f"Unknown schema in attribute {word!r}")
        name = name[len(CORE_URN_PREFIX) :].split(":", 1)[-1]
    parts = name.split(".")
    if len(parts) > 2 or not all(re.fullmatch(r"\$?[A-Za-z][\w-]*", p) for p in parts):
        raise ScimFilterError(f"Invalid attribute path {word!r}")
    return AttrPath(parts[0].lower(), parts[1].lower() if len(parts) == 2 else None)


class _Parser:
    def __init__(self, text: str):
        if not isinstance(text, str):
            raise ScimFilterError("A filter must be a string")
        if len(text) > 4096:
            raise ScimFilterError("The filter is too long")
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0

    def peek(self, offset: int = 0):
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else (None, None)

    def take(self, kind: str | None = None, word: str | None = None):
        tok = self.peek()
        if tok[0] is None or (kind and tok[0] != kind) or (word and tok[1].lower() != word):
            want = word or kind or "more input"
            got = tok[1] if tok[0] else "the end"
            raise ScimFilterError(f"Expected {want}, found {got}")
        self.pos += 1
        return tok

    def at_word(self, *words: str) -> bool:
        kind, text = self.peek()
        return kind == "word" and text.lower() in words

    def parse_filter(self):
        expr = self.parse_or()
        if self.peek()[0] is not None:
            raise ScimFilterError(f"Unexpected {self.peek()[1]!r}")
        return expr

    def parse_or(self):
        left = self.parse_and()
        while self.at_word("or"):
            self.take()
            left = Logical("or", left, self.parse_and())
        return left

    def parse_and(self):
        left = self.parse_unary()
        while self.at_word("and"):
            self.take()
            left = Logical("and", left, self.parse_unary())
        return left

    def parse_unary(self):
        self.depth += 1
        if self.depth > 50:
            raise ScimFilterError("The filter is nested too deeply")
        try:
            if self.at_word("not") and self.peek(1)[0] == "lparen":
                self.take()
                return Not(self.parse_group())
            if self.peek()[0] == "lparen":
                return self.parse_group()
            return self.parse_attr_exp()
        finally:
            self.depth -= 1

    def parse_group(self):
        self.take("lparen")
        expr = self.parse_or()
        self.take("rparen")
        return expr

    def parse_attr_exp(self):
        path = attr_path(self.take("word")[1])
        if self.peek()[0] == "lbracket":
            if path.sub:
                raise ScimFilterError("A value filter applies to an attribute, not a sub-attribute")
            self.take("lbracket")
            inner = self.parse_or()
            self.take("rbracket")
            return ValuePath(path, inner)
        kind, op = self.take("word")
        op = op.lower()
        if op == "pr":
            return Compare(path, "pr")
        if op not in COMPARE_OPS:
            raise ScimFilterError(f"Unknown operator {op!r}")
        return Compare(path, op, self.parse_value())

    def parse_value(self):
        kind, text = self.take()
        if kind == "string":
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ScimFilterError(f"Invalid string {text}") from exc
            # JSON escapes can spell what no database holds ("\\ud800", "\\u0000").
            if not is_storable_text(value):
                raise ScimFilterError("Filter strings must be valid Unicode without NUL characters")
            return value
        if kind == "number":
            return Decimal(text)
        if kind == "word" and text.lower() in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[text.lower()]
        raise ScimFilterError(f"Expected a value, found {text!r}")


def is_storable_text(value: str) -> bool:
    """Text a database column can hold: no NUL character and no lone UTF-16 surrogate (JSON
    can spell both; SQLite's UTF-8 and PostgreSQL refuse them deep inside a query)."""
    return "\x00" not in value and _SURROGATE.search(value) is None


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_filter(text) -> object:
    return _Parser(text).parse_filter()


def parse_patch_path(text) -> PatchPath:
    """`attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub` (RFC 7644 §3.5.2, Figure 7)."""
    if not isinstance(text, str) or not text.strip():
        raise ScimFilterError('"path" must be a non-empty string')
    bracket = text.find("[")
    if bracket == -1:
        return PatchPath(attr_path(text.strip()))
    close = text.rfind("]")
    if close < bracket:
        raise ScimFilterError(f"Invalid path {text!r}")
    path = attr_path(text[:bracket].strip())
    if path.sub:
        raise ScimFilterError("A value filter applies to an attribute, not a sub-attribute")
    rest = text[close + 1 :].strip()
    sub = None
    if rest:
        if not re.fullmatch(r"\.[A-Za-z$][\w-]*", rest):
            raise ScimFilterError(f"Invalid path {text!r}")
        sub = rest[1:].lower()
    return PatchPath(path, parse_filter(text[bracket + 1 : close]), sub)


# --- SQL ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """How one filterable attribute lives in the database."""

    column: str  # ORM path
    kind: str = "string"  # string / boolean / datetime / reference
    case_exact: bool = False
    nullable: bool = False  # may be NULL (otherwise "" means unassigned for strings)
    multi_text: bool = False  # newline-framed list of lower-cased values (e.g. "\na@x\nb@x\n")


def to_q(expr, fields: dict[str, Field]) -> Q:
    """A Q for `expr`; `fields` maps "attr" / "attr.sub" (lower case) to columns."""
    if isinstance(expr, Logical):
        left, right = to_q(expr.left, fields), to_q(expr.right, fields)
        return (left & right) if expr.op == "and" else (left | right)
    if isinstance(expr, Not):
        return ~to_q(expr.expr, fields)
    if isinstance(expr, ValuePath):
        return to_q(_prefixed(expr.expr, expr.path.attr), fields)
    return _compare_q(expr, fields)


def _prefixed(expr, attr: str):
    """`emails[value co "x"]` filters like `emails.value co "x"` (sub-attributes of one attribute)."""
    if isinstance(expr, Logical):
        return Logical(expr.op, _prefixed(expr.left, attr), _prefixed(expr.right, attr))
    if isinstance(expr, Not):
        return Not(_prefixed(expr.expr, attr))
    if isinstance(expr, ValuePath) or expr.path.sub:
        raise ScimFilterError("Nested value filters are not supported")
    return Compare(AttrPath(attr, expr.path.attr), expr.op, expr.value)


def _field_for(path: AttrPath, fields: dict[str, Field]) -> Field:
    field = fields.get(path.dotted)
    if field is None and path.sub is None:
        # A multi-valued complex attribute without a sub-attribute means its "value" (§3.4.2.2).
        field = fields.get(f"{path.attr}.value")
    if field is None:
        raise ScimFilterError(f"Filtering on {path.dotted!r} is not supported")
    return field


def _compare_q(expr: Compare, fields: dict[str, Field]) -> Q:
    field = _field_for(expr.path, fields)
    col = field.column
    if expr.op == "pr":
        q = Q(**{f"{col}__isnull": False})
        return q & ~Q(**{col: ""}) if field.kind in {"string", "reference"} else q
    value = expr.value
    if value is None:
        if expr.op not in {"eq", "ne"}:
            raise ScimFilterError(f"{expr.op} needs a value, not null")
        absent = ~_compare_q(Compare(expr.path, "pr"), fields)
        return absent if expr.op == "eq" else ~absent
    if field.kind == "boolean":
        if not isinstance(value, bool) or expr.op not in {"eq", "ne"}:
            raise ScimFilterError(f"{expr.path.dotted} is a boolean: use eq/ne with true or false")
        q = Q(**{col: value})
        return q if expr.op == "eq" else ~q
    if field.kind == "datetime":
        if not isinstance(value, str) or (moment := _parse_moment(value)) is None:
            raise ScimFilterError(f"{expr.path.dotted} needs an RFC 3339 date-time string")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if expr.op in {"co", "sw", "ew"}:
            raise ScimFilterError(f"{expr.op} does not apply to date-times")
        return _ordered_q(col, expr.op, moment)
    if not isinstance(value, str):
        raise ScimFilterError(f"{expr.path.dotted} is a string: compare it with a quoted value")
    if field.multi_text:
        return _multi_text_q(field, expr.op, value)
    if field.case_exact:
        return _case_exact_q(col, expr.op, value)
    return _ci_q(col, expr.op, value)


def _parse_moment(value: str) -> dt.datetime | None:
    # parse_datetime answers None for what is not shaped like a date-time, but raises for a
    # well-shaped impossible one ("2020-13-45T99:99:99Z"); a moment at the edge of the
    # calendar overflows once it is moved to UTC ("9999-12-31T23:59:59-12:00").
    try:
        moment = parse_datetime(value)
        if moment is not None and moment.tzinfo is not None:
            moment.astimezone(dt.UTC)
        return moment
    except (ValueError, OverflowError):
        return None


def _ordered_q(col, op: str, value) -> Q:
    lookup = {"eq": "exact", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
    if op == "ne":
        return ~Q(**{col: value})
    return Q(**{f"{col}__{lookup[op]}": value})


def _ci_q(col: str, op: str, value: str) -> Q:
    if op == "eq":
        return Q(**{f"{col}__iexact": value})
    if op == "ne":
        return ~Q(**{f"{col}__iexact": value})
    if op == "co":
        return Q(**{f"{col}__icontains": value})
    if op == "sw":
        return Q(**{f"{col}__istartswith": value})
    if op == "ew":
        return Q(**{f"{col}__iendswith": value})
    # gt/ge/lt/le ignoring case: compare lower-cased values.
    lookup = {"gt": GreaterThan, "ge": GreaterThanOrEqual, "lt": LessThan, "le": LessThanOrEqual}[op]
    return Q(lookup(Lower(F(col)), Value(value.lower())))


def _case_exact_q(col: str, op: str, value: str) -> Q:
    """Case-sensitive everywhere: SQLite's LIKE ignores ASCII case, so co/sw/ew use instr/substr."""
    if op in {"eq", "ne", "gt", "ge", "lt", "le"}:
        return _ordered_q(col, op, value)
    if op == "co":
        return Q(GreaterThan(StrIndex(F(col), Value(value)), 0))
    if op == "sw":
        return Q(Exact(Substr(F(col), 1, len(value)), Value(value)))
    return Q(Exact(Right(F(col), len(value)), Value(value))) & Q(
        GreaterThanOrEqual(Length(F(col)), len(value))
    )


def _multi_text_q(field: Field, op: str, value: str) -> Q:
    if "\n" in value:
        raise ScimFilterError("Values cannot contain a line break")
    col, v = field.column, value.lower()
    needle = {"eq": f"\n{v}\n", "ne": f"\n{v}\n", "co": v, "sw": f"\n{v}", "ew": f"{v}\n"}.get(op)
    if needle is None:
        raise ScimFilterError(f"{op} does not apply to a multi-valued attribute")
    q = Q(**{f"{col}__icontains": needle})
    return ~q if op == "ne" else q


# --- in memory (PATCH value filters) -------------------------------------------------------------
def matches(expr, item: dict) -> bool:
    """Evaluate a value filter against one element of a multi-valued attribute."""
    if isinstance(expr, Logical):
        if expr.op == "and":
            return matches(expr.left, item) and matches(expr.right, item)
        return matches(expr.left, item) or matches(expr.right, item)
    if isinstance(expr, Not):
        return not matches(expr.expr, item)
    if isinstance(expr, ValuePath) or expr.path.sub:
        raise ScimFilterError("Nested value filters are not supported")
    lowered = {str(k).lower(): v for k, v in item.items()} if isinstance(item, dict) else {}
    actual = lowered.get(expr.path.attr)
    if expr.op == "pr":
        return actual not in (None, "", [])
    expected = expr.value
    if isinstance(expected, Decimal):
        expected = float(expected)
    if isinstance(actual, str) and isinstance(expected, str):
        # Sub-attributes we filter on in PATCH (value, type, display) compare ignoring case,
        # except "value" of references (ids) which are case-exact.
        if expr.path.attr != "value":
            actual, expected = actual.lower(), expected.lower()
        return {
            "eq": actual == expected,
            "ne": actual != expected,
            "co": expected in actual,
            "sw": actual.startswith(expected),
            "ew": actual.endswith(expected),
            "gt": actual > expected,
            "ge": actual >= expected,
            "lt": actual < expected,
            "le": actual <= expected,
        }[expr.op]
    if expr.op == "eq":
        return actual == expected
    if expr.op == "ne":
        return actual != expected
    raise ScimFilterError(f"{expr.op} cannot compare {expr.path.attr}")


__all__ = [
    "AttrPath",
    "Compare",
    "Field",
    "PatchPath",
    "ScimFilterError",
    "matches",
    "parse_filter",
    "parse_patch_path",
    "to_q",
]
