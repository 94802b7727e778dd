# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one escaping rule per report format: every value that comes from a record or a remote
system (names, messages, times) goes through ``md`` in Markdown and ``html`` in HTML, in every report the
collection writes (the window reports, the assessment, the vSphere windows), so nothing in it can add a table
row, a link, an image or live HTML. A unit test renders any string through both and reads it back as text.
Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from html import escape as _html_escape
except ImportError:  # Python 2
    from cgi import escape as _cgi_escape

    def _html_escape(text, quote=True):
        return _cgi_escape(text, quote).replace("'", "&#x27;")

# Markdown: a value must render as exactly its text. '&', '<' and '>' become entities (no HTML, no entity of
# the value's own); the ASCII punctuation that opens or closes inline syntax (emphasis, code, links, images,
# GFM strikethrough and table cells) is backslash-escaped, which CommonMark allows for any ASCII punctuation; so
# is every '#', since a run of '#' after a space at the end of a heading line is that heading's closing sequence
# unless one of them is escaped (CommonMark 0.31, 4.2 ATX headings: "### foo \###" is the heading "foo ###");
# autolinks (scheme://, protocol-relative //, www., e-mail; GFM's extension and linkify-it, whose default schemas
# include "//") are broken by escaping their ':', first '/', '.' and '@'; line breaks become spaces: a value is
# one line; a block marker at the start of a line is escaped where a value starts one.
_MD_INLINE = re.compile(r"[\\`*_\[\]|~#]")
_MD_AUTOLINK = re.compile(r"(?i)(:(?=//)|/(?=/)|(?<=www)\.|@)")
# a block marker opens a quote, a list item or a setext underline only at the start of a line and (for list
# markers) before a space ('#' is escaped everywhere, '>' is an entity)
_MD_LEADING = re.compile(r"\A(?:[-+*](?=\s|\Z)|\d{1,9}[.)](?=\s|\Z)|[=-]+\s*\Z)")
_LINE_BREAKS = re.compile("[\r\n\u2028\u2029\x0b\x0c\x85]+")
# Control characters other than the whitespace HTML allows (tab, line feed, form feed, carriage return) are
# dropped in both formats: WHATWG HTML's parser calls any other control (C0, DEL and C1, U+0080 to U+009F) a
# parse error (control-character-in-input-stream), and a C1 control such as U+009B (CSI) starts an escape
# sequence on a terminal that shows the report.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def md(value):
    """Any value as Markdown text that renders as exactly that text, on one line, where it follows other text
    on its line (a table cell, a list item's or a heading's words)."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", _LINE_BREAKS.sub(" ", text))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(lambda match: "\\" + match.group(0), text)
    return _MD_AUTOLINK.sub(lambda match: "\\" + match.group(0), text)


def md_line(value):
    """``md``, for a value that starts its own line: a heading, quote, list or setext marker at its start is
    escaped too."""
    # at the start of a line, spaces and tabs indent (four columns open a code block): a value never starts with them
    text = md(value).lstrip(" \t")
    match = _MD_LEADING.match(text)
    if match:
        marker = match.group(0)
        cut = len(marker) - len(marker.lstrip("0123456789"))
        text = text[:cut] + "\\" + text[cut:]
    return text


def html(value):
    """Any value as HTML text (element content or a quoted attribute)."""
    text = "" if value is None else str(value)
    return _html_escape(_CONTROL.sub("", text), quote=True)
