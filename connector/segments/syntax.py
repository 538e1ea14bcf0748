"""From rule text to a Python expression tree, without ever running anything.

The text is read by :mod:`tokenize` and :func:`ast.parse` (``mode="eval"``) only: nothing is
compiled to code, evaluated or imported. Before parsing, a token pass:

- refuses what Python would misread or report badly (``=``, ``&&``, ``!``, ``AND``, ``#``,
  ``%``, ``@``, ``//``, unbalanced parentheses) with a message in the rule language's terms;
- rewrites ``x between a and b`` (not Python) into ``x @ a % b`` and ``x not between a and b``
  into ``x // a % b``, padded with spaces so every column stays where the marketer wrote it.
  Since the marketer cannot write ``@``, ``%`` or ``//`` themselves, those operators in the
  tree can only come from this rewrite.

The text is parsed inside ``(`` ... ``\\n)`` so a rule may span lines (TOML multi-line strings);
the token pass makes sure the rule's own parentheses never close the wrapper early.
Positions are reported as 0-based character offsets into the rule as written.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from connector.errors import ConfigError
from connector.redact import mask_email

__all__ = ["GRAMMAR_HINT", "MAX_DEPTH", "MAX_RULE_LENGTH", "RuleError", "Source", "parse_source"]

MAX_RULE_LENGTH = 2_000
MAX_DEPTH = 32  # levels of the expression tree; real rules stay under 10

GRAMMAR_HINT = (
    'comparisons such as total_spent >= 500, country in ["FR", "BE"], "T-shirt" in categories, '
    "is_empty(phone), joined with and / or / not"
)


_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")


class RuleError(ConfigError):
    """A segment rule that cannot be used, and why.

    The message names the segment, the column, the offending fragment, the problem and what
    was expected, e.g. ``segment 'vip', column 1: total_spent >= "a lot": total_spent is a
    number, compared with text "a lot" (expected a number, e.g. 500)``. Email addresses in it
    are masked.

    Attributes:
        segment: the segment's name, if known.
        rule: the rule text.
        offset: 0-based offset of the fragment in ``rule``, or ``None`` for the rule as a whole.
        fragment: the offending part of the rule, on one line.
        problem: what is wrong.
        expected: what would be accepted instead.
    """

    def __init__(
        self,
        problem: str,
        *,
        rule: str,
        segment: str | None = None,
        start: int | None = None,
        end: int | None = None,
        expected: str = "",
    ) -> None:
        fragment = _mask(_fragment(rule, start, end))
        where = f"segment {segment!r}" if segment else "rule"
        if start is not None:
            where += f", column {start + 1}"
        message = f"{where}: " + (f"{fragment}: " if fragment else "") + problem
        if expected:
            message += f" (expected {expected})"
        super().__init__(_mask(message), problems=(_mask(problem),))
        self.segment = segment
        self.rule = rule
        self.offset = start
        self.fragment = fragment
        self.problem = problem
        self.expected = expected


def _mask(text: str) -> str:
    return _EMAIL.sub(lambda match: mask_email(match.group(0)), text)


def _fragment(rule: str, start: int | None, end: int | None, limit: int = 60) -> str:
    if start is None or not isinstance(rule, str):
        return ""
    piece = rule[start:end] if end is not None and end > start else rule[start : start + 20]
    piece = "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(piece.split()))
    return piece if len(piece) <= limit else piece[: limit - 1] + "…"


@dataclass(frozen=True)
class Source:
    """The rule text and the mapping from parser positions back to offsets in it."""

    text: str
    segment: str | None
    wrapped: str  # "(" + text (line endings normalised) + "\n)"
    line_starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str, segment: str | None = None) -> Source:
        # Same length replacements, so offsets into `wrapped` minus one are offsets into `text`.
        normalised = text.replace("\r\n", " \n").replace("\r", "\n")
        wrapped = "(" + normalised + "\n)"
        starts = [0]
        for index, char in enumerate(wrapped):
            if char == "\n":
                starts.append(index + 1)
        return cls(text, segment, wrapped, tuple(starts))

    def offset(self, line: int, column: int, *, in_bytes: bool = False) -> int:
        """The offset in ``text`` of (1-based ``line``, 0-based ``column``) of ``wrapped``."""
        line = min(max(line, 1), len(self.line_starts))
        start = self.line_starts[line - 1]
        if in_bytes:  # the ast module counts columns in UTF-8 bytes
            end = self.line_starts[line] if line < len(self.line_starts) else len(self.wrapped)
            column = len(self.wrapped[start:end].encode()[:column].decode(errors="ignore"))
        return min(max(start + column - 1, 0), len(self.text))

    def span(self, node: ast.AST) -> tuple[int, int]:
        """Where ``node`` is in ``text``, as (start, end) offsets."""
        start = self.offset(node.lineno, node.col_offset, in_bytes=True)  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
        end_col = getattr(node, "end_col_offset", None)
        end = self.offset(end_line, end_col, in_bytes=True) if end_col is not None else start + 1
        return start, max(end, start)

    def error(self, problem: str, start: int | None = None, end: int | None = None, *, expected: str = "") -> RuleError:
        """A :class:`RuleError` about ``text[start:end]``."""
        return RuleError(problem, rule=self.text, segment=self.segment, start=start, end=end, expected=expected)


def parse_source(text: str, segment: str | None = None) -> tuple[ast.expr, Source]:
    """Tokenise, check, rewrite and parse ``text`` into an expression tree.

    Raises:
        RuleError: the text is empty, too long, not valid Python-like syntax, or uses a token
            the rule language refuses.
    """
    if not isinstance(text, str):
        raise RuleError(f"a rule is text, not {type(text).__name__}", rule="", segment=segment)
    source = Source.of(text, segment)
    if not text.strip():
        raise source.error("the rule is empty", expected=GRAMMAR_HINT)
    if len(text) > MAX_RULE_LENGTH:
        raise source.error(f"the rule is {len(text)} characters long; the limit is {MAX_RULE_LENGTH}",
                           expected="a shorter rule, or several segments")
    for index, char in enumerate(text):
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            raise source.error(f"the rule contains the invalid character {char!r}", index, index + 1,
                               expected="printable text")
    rewritten = _check_tokens(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "x" is "y"; we refuse `is` anyway
            tree = ast.parse(rewritten, mode="eval")
    except SyntaxError as exc:
        at = source.offset(exc.lineno or 1, (exc.offset or 1) - 1) if exc.lineno else None
        message = (exc.msg or "invalid syntax").rstrip(".")
        raise source.error(f"not a valid rule ({message})", at, expected=GRAMMAR_HINT) from None
    except (RecursionError, MemoryError):
        raise source.error("the rule is nested too deeply", expected="fewer parentheses and nots") from None
    except ValueError as exc:
        raise source.error(f"not a valid rule ({exc})", expected=GRAMMAR_HINT) from None
    _check_depth(tree.body, source)
    return tree.body, source


def _check_depth(root: ast.expr, source: Source) -> None:
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            start, end = source.span(node)
            raise source.error(f"the rule is nested more than {MAX_DEPTH} levels deep", start, end,
                               expected="fewer parentheses and nots")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, ast.expr_context))


_ARITHMETIC = {"@", "%", "//", "@=", "%=", "//=", "+=", "-=", "*=", "/=", "**=", "&=", "|=", "^=", ">>=", "<<="}
_BOOLEAN_SYMBOLS = {"&": "and", "|": "or", "~": "not", "^": "and / or"}
_OPENERS, _CLOSERS = "([{", ")]}"
_At = Callable[[tuple[int, int]], int]  # tokenize position -> offset in the wrapped text
_Where = Callable[[tokenize.TokenInfo], tuple[int, int]]  # token -> (start, end) in the rule text


def _check_tokens(source: Source) -> str:
    """Refuse misleading tokens, check parentheses, and rewrite ``between``; return the text to parse."""
    tokens: list[tokenize.TokenInfo] = []
    opened: list[int] = []
    last = len(source.wrapped) - 1  # the wrapper's closing parenthesis

    def at(position: tuple[int, int]) -> int:
        return source.line_starts[position[0] - 1] + position[1]

    def where(token: tokenize.TokenInfo) -> tuple[int, int]:
        start = source.offset(*token.start)
        return start, max(source.offset(*token.end), start)

    try:
        for token in tokenize.generate_tokens(io.StringIO(source.wrapped).readline):
            _check_token(source, token, tokens, where)
            if token.type == tokenize.OP and token.string in _OPENERS:
                opened.append(at(token.start))
            elif token.type == tokenize.OP and token.string in _CLOSERS:
                if (not opened or len(opened) == 1) and at(token.start) != last:
                    raise source.error(f"this {token.string!r} closes nothing that was opened", *where(token),
                                       expected="balanced parentheses and brackets")
                if opened:
                    opened.pop()
            tokens.append(token)
    except tokenize.TokenError as exc:
        if "string" in str(exc.args[0]):
            raise source.error("some text has no closing quotes", source.offset(*exc.args[1]),
                               expected='text between matching quotes, e.g. "FR"') from None
        unclosed = _unclosed(tokens[1:], at, last)
        start, end = where(unclosed) if unclosed else (None, None)
        raise source.error("this parenthesis or bracket is never closed", start, end,
                           expected="balanced parentheses and brackets") from None
    except (SyntaxError, ValueError) as exc:  # IndentationError and friends, on odd inputs
        raise source.error(f"not a valid rule ({exc})", expected=GRAMMAR_HINT) from None
    return _rewrite_between(source, tokens, at, where)


def _unclosed(tokens: list[tokenize.TokenInfo], at: _At, last: int) -> tokenize.TokenInfo | None:
    """The first of the rule's own openers left unclosed (the wrapper's parentheses excluded)."""
    stack: list[tokenize.TokenInfo] = []
    for token in tokens:
        if token.type != tokenize.OP or at(token.start) == last:
            continue
        if token.string in _OPENERS:
            stack.append(token)
        elif token.string in _CLOSERS and stack:
            stack.pop()
    return stack[0] if stack else None


def _check_token(
    source: Source, token: tokenize.TokenInfo, previous: list[tokenize.TokenInfo], where: _Where
) -> None:
    kind, text = token.type, token.string
    if kind == tokenize.COMMENT:
        raise source.error("comments (#) are not allowed in a rule", *where(token),
                      expected="the rule alone; put comments in the config file")
    if kind == tokenize.ERRORTOKEN and text.strip():
        if text == "!":
            raise source.error("'!' is not allowed", *where(token), expected="!= to compare, or not to negate")
        if text in "\"'":
            raise source.error("this text has no closing quote", *where(token),
                          expected='text between matching quotes, e.g. "FR"')
        raise source.error(f"the character {text!r} is not allowed", *where(token), expected=GRAMMAR_HINT)
    if kind == tokenize.OP:
        if text == "=":
            if len(previous) > 1 and previous[-1].type == tokenize.NAME and previous[-2].string in ("(", ",") and (
                previous[-2].start != (1, 0)  # the wrapper's parenthesis: `country = "FR"`
            ):
                raise source.error("keyword arguments (name=...) are not allowed", *where(previous[-1]),
                                   expected="one plain argument, e.g. days_ago(90)")
            raise source.error("'=' is not allowed", *where(token), expected='== to compare, e.g. country == "FR"')
        if text == ">" and previous and previous[-1].string == "<" and previous[-1].end == token.start:
            raise source.error("'<>' is not allowed", *where(previous[-1]), expected="!= for 'different from'")
        if text in _BOOLEAN_SYMBOLS:
            raise source.error(f"{text!r} is not allowed", *where(token), expected=f"the word {_BOOLEAN_SYMBOLS[text]}")
        if text in _ARITHMETIC:
            raise source.error(f"arithmetic ({text}) is not allowed", *where(token),
                          expected="a comparison of a field with a value, e.g. total_spent >= 500")
    if kind == tokenize.NAME and text.lower() in {"and", "or", "not"} and text != text.lower():
        raise source.error(f"{text!r} is not allowed", *where(token), expected=f"{text.lower()} in lower case")
    if kind == tokenize.STRING:
        prefix = text[: len(text) - len(text.lstrip("rRbBuUfF"))].lower()
        body = text[len(prefix):]
        if "f" in prefix or "b" in prefix:
            what = "f-strings" if "f" in prefix else "byte strings"
            raise source.error(f"{what} are not allowed", *where(token), expected='plain text in quotes, e.g. "FR"')
        if body[:3] in ('"""', "'''"):
            raise source.error("triple-quoted text is not allowed", *where(token),
                          expected='text in single quotes or double quotes, e.g. "FR"')


def _significant(tokens: list[tokenize.TokenInfo]) -> list[tokenize.TokenInfo]:
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    return [t for t in tokens if t.type not in skip and not (t.type == tokenize.ERRORTOKEN and not t.string.strip())]


def _rewrite_between(source: Source, tokens: list[tokenize.TokenInfo], at: _At, where: _Where) -> str:
    significant = _significant(tokens)
    depths: list[int] = []
    depth = 0
    for token in significant:
        if token.type == tokenize.OP and token.string in _CLOSERS:
            depth -= 1
        depths.append(depth)
        if token.type == tokenize.OP and token.string in _OPENERS:
            depth += 1
    chars = list(source.wrapped)

    def replace(token: tokenize.TokenInfo, new: str) -> None:
        start = at(token.start)
        chars[start : start + len(token.string)] = new.ljust(len(token.string))

    used: set[int] = set()
    for index, token in enumerate(significant):
        if token.type != tokenize.NAME or token.string != "between":
            continue
        before = significant[index - 1] if index else None
        if before is not None and before.type == tokenize.OP and before.string == ".":
            continue  # attributes.between is a name, not the operator
        closing = next(
            (j for j in range(index + 1, len(significant))
             if j not in used and depths[j] == depths[index] and significant[j].type == tokenize.NAME
             and significant[j].string == "and"),
            None,
        )
        if closing is None:
            raise source.error("between needs both ends", *where(token),
                          expected="field between low and high, e.g. total_spent between 100 and 500")
        used.add(closing)
        replace(significant[closing], "%")
        if before is not None and before.type == tokenize.NAME and before.string == "not":
            replace(before, "")
            replace(token, "//")
        else:
            replace(token, "@")
    return "".join(chars)
