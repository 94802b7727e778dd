# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall rules as pure data: snake_case options <-> the DSM's camelCase fields, validation with the
allowed values named, and a comparison limited to the fields the caller gave."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError

ACTIONS = ["log-only", "allow", "deny", "force-allow", "bypass"]
PRIORITIES = ["0", "1", "2", "3", "4"]
DIRECTIONS = ["incoming", "outgoing"]
FRAME_TYPES = ["any", "ip", "arp", "revarp", "ipv4", "ipv6", "other"]
PROTOCOLS = ["any", "icmp", "igmp", "ggp", "tcp", "pup", "udp", "idp", "nd", "raw", "tcp-udp", "icmpv6", "other"]
IP_TYPES = ["any", "masked-ip", "range", "ip-list", "single", "multiple"]
MAC_TYPES = ["any", "single", "mac-list", "multiple"]
PORT_TYPES = ["any", "multiple", "port-list"]
TCP_FLAGS = ["fin", "syn", "rst", "psh", "ack", "urg"]

# snake_case option -> (DSM field, kind, allowed values). Kinds: str, int, bool, list, enum, enumlist.
FIELDS = {
    "name": ("name", "str", None),
    "description": ("description", "str", None),
    "action": ("action", "enum", ACTIONS),
    "priority": ("priority", "enum", PRIORITIES),
    "direction": ("direction", "enum", DIRECTIONS),
    "frame_type": ("frameType", "enum", FRAME_TYPES),
    "frame_number": ("frameNumber", "int", None),
    "frame_not": ("frameNot", "bool", None),
    "protocol": ("protocol", "enum", PROTOCOLS),
    "protocol_number": ("protocolNumber", "int", None),
    "protocol_not": ("protocolNot", "bool", None),
    "source_ip_type": ("sourceIPType", "enum", IP_TYPES),
    "source_ip_value": ("sourceIPValue", "str", None),
    "source_ip_mask": ("sourceIPMask", "str", None),
    "source_ip_range_from": ("sourceIPRangeFrom", "str", None),
    "source_ip_range_to": ("sourceIPRangeTo", "str", None),
    "source_ip_multiple": ("sourceIPMultiple", "list", None),
    "source_ip_list_id": ("sourceIPListID", "int", None),
    "source_ip_not": ("sourceIPNot", "bool", None),
    "source_mac_type": ("sourceMACType", "enum", MAC_TYPES),
    "source_mac_value": ("sourceMACValue", "str", None),
    "source_mac_multiple": ("sourceMACMultiple", "list", None),
    "source_mac_list_id": ("sourceMACListID", "int", None),
    "source_mac_not": ("sourceMACNot", "bool", None),
    "source_port_type": ("sourcePortType", "enum", PORT_TYPES),
    "source_port_multiple": ("sourcePortMultiple", "list", None),
    "source_port_list_id": ("sourcePortListID", "int", None),
    "source_port_not": ("sourcePortNot", "bool", None),
    "destination_ip_type": ("destinationIPType", "enum", IP_TYPES),
    "destination_ip_value": ("destinationIPValue", "str", None),
    "destination_ip_mask": ("destinationIPMask", "str", None),
    "destination_ip_range_from": ("destinationIPRangeFrom", "str", None),
    "destination_ip_range_to": ("destinationIPRangeTo", "str", None),
    "destination_ip_multiple": ("destinationIPMultiple", "list", None),
    "destination_ip_list_id": ("destinationIPListID", "int", None),
    "destination_ip_not": ("destinationIPNot", "bool", None),
    "destination_mac_type": ("destinationMACType", "enum", MAC_TYPES),
    "destination_mac_value": ("destinationMACValue", "str", None),
    "destination_mac_multiple": ("destinationMACMultiple", "list", None),
    "destination_mac_list_id": ("destinationMACListID", "int", None),
    "destination_mac_not": ("destinationMACNot", "bool", None),
    "destination_port_type": ("destinationPortType", "enum", PORT_TYPES),
    "destination_port_multiple": ("destinationPortMultiple", "list", None),
    "destination_port_list_id": ("destinationPortListID", "int", None),
    "destination_port_not": ("destinationPortNot", "bool", None),
    "any_flags": ("anyFlags", "bool", None),
    "tcp_flags": ("tcpflags", "enumlist", TCP_FLAGS),
    "tcp_not": ("TCPNot", "bool", None),
    "icmp_type": ("ICMPType", "int", None),
    "icmp_code": ("ICMPCode", "int", None),
    "icmp_not": ("ICMPNot", "bool", None),
    "log_disabled": ("logDisabled", "bool", None),
    "include_packet_data": ("includePacketData", "bool", None),
    "alert_enabled": ("alertEnabled", "bool", None),
    "schedule_id": ("scheduleID", "int", None),
    "context_id": ("contextID", "int", None),
}
# Numeric ranges checked before anything is sent: IP protocol numbers and ICMP type/code are 8-bit fields
# (IANA protocol numbers, RFC 792), object IDs are positive.
INT_RANGES = {
    "protocol_number": (0, 255),
    "icmp_type": (0, 255),
    "icmp_code": (0, 255),
    "frame_number": (0, 0xFFFF),
}
ID_FIELDS = ("source_ip_list_id", "source_mac_list_id", "source_port_list_id", "destination_ip_list_id",
             "destination_mac_list_id", "destination_port_list_id", "schedule_id", "context_id")
PORT_LISTS = ("source_port_multiple", "destination_port_multiple")
CAMEL_TO_SNAKE = dict((camel, snake) for snake, (camel, _kind, _allowed) in FIELDS.items())
CAMEL_TO_SNAKE["ID"] = "id"
# Order-insensitive in the DSM's eyes: compared as sets so a reordered list is no change.
UNORDERED = ("list", "enumlist")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def argument_spec_fields():
    """Ansible option specs for every rule field (the enums become ``choices`` so ``ansible-doc`` and
    Ansible's own validation name the allowed values)."""
    spec = {}
    for snake, (_camel, kind, allowed) in FIELDS.items():
        if snake == "name":
            continue
        if kind == "enum":
            spec[snake] = dict(type="str", choices=list(allowed))
        elif kind == "enumlist":
            spec[snake] = dict(type="list", elements="str", choices=list(allowed))
        elif kind == "list":
            spec[snake] = dict(type="list", elements="str")
        elif kind == "bool":
            spec[snake] = dict(type="bool")
        elif kind == "int":
            spec[snake] = dict(type="raw") if snake == "frame_number" else dict(type="int")
        else:
            spec[snake] = dict(type="str")
    return spec


def _bad(parameter, value, allowed):
    return ParameterError("invalid value %r for %s; allowed values: %s" % (value, parameter, ", ".join(allowed)),
                          parameter=parameter, allowed=list(allowed))


def _to_int(parameter, value):
    if isinstance(value, bool):
        raise ParameterError("%s must be an integer, got %r" % (parameter, value), parameter=parameter)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise ParameterError("%s must be an integer (decimal, or hex like 0x886F), got %r" % (parameter, value),
                             parameter=parameter)


def _to_bool(parameter, value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParameterError("%s must be a boolean, got %r" % (parameter, value), parameter=parameter)


def normalize_rule(options):
    """Snake_case options (unset ones omitted or None) -> the DSM's camelCase fields, validated.

    Raises ParameterError naming the option and its allowed values before anything is sent.
    """
    rule = {}
    for snake, value in options.items():
        if value is None:
            continue
        if snake not in FIELDS:
            raise ParameterError("unknown firewall rule field %r; known fields: %s"
                                 % (snake, ", ".join(sorted(FIELDS))), parameter=snake)
        camel, kind, allowed = FIELDS[snake]
        if kind == "enum":
            text = str(value).strip().lower()
            if text not in allowed:
                raise _bad(snake, value, allowed)
            value = text
        elif kind == "enumlist":
            items = [str(item).strip().lower() for item in _as_list(value)]
            for item in items:
                if item not in allowed:
                    raise _bad(snake, item, allowed)
            value = items
        elif kind == "list":
            value = [str(item).strip() for item in _as_list(value)]
        elif kind == "bool":
            value = _to_bool(snake, value)
        elif kind == "int":
            value = _to_int(snake, value)
            _check_range(snake, value)
        else:
            value = str(value)
        if snake in PORT_LISTS:
            value = [_check_port(snake, item) for item in value]
        rule[camel] = value
    return rule


def _check_range(snake, value):
    if snake in INT_RANGES:
        low, high = INT_RANGES[snake]
        if not low <= value <= high:
            raise ParameterError("%s must be between %d and %d, got %d" % (snake, low, high, value), parameter=snake)
    elif snake in ID_FIELDS and value < 1:
        raise ParameterError("%s must be the positive ID of a DSM object, got %d" % (snake, value), parameter=snake)


def _check_port(snake, text):
    """``80`` or ``1000-2000``, each port 0-65535 and the range in order."""
    low, sep, high = text.partition("-")
    parts = [low, high] if sep else [low]
    if not all(part.isdigit() and len(part) <= 5 for part in parts):
        raise ParameterError("%s entry %r is not a port or port range such as 80 or 1000-2000" % (snake, text),
                             parameter=snake)
    numbers = [int(part) for part in parts]
    if any(number > 65535 for number in numbers) or (sep and numbers[0] > numbers[1]):
        raise ParameterError("%s entry %r: ports are 0-65535 and a range goes from low to high" % (snake, text),
                             parameter=snake)
    return text


def _as_list(value):
    if isinstance(value, (list, tuple)):
        return list(value)
    return [item for item in str(value).split(",") if item.strip()]


def check_consistency(rule):
    """Cross-field rules the DSM enforces, checked on the rule as it would be after the change."""
    if rule.get("frameType") == "other" and "frameNumber" not in rule:
        raise ParameterError("frame_type 'other' needs frame_number (the EtherType, e.g. 0x886F)",
                             parameter="frame_number")
    if "frameNumber" in rule and not 0 <= rule["frameNumber"] <= 0xFFFF:
        raise ParameterError("frame_number must be between 0 and 0xFFFF, got %d" % rule["frameNumber"],
                             parameter="frame_number")
    if rule.get("protocol") == "other" and "protocolNumber" not in rule:
        raise ParameterError("protocol 'other' needs protocol_number (0-255)", parameter="protocol_number")
    for side in ("source", "destination"):
        if rule.get(side + "PortType") == "multiple" and not rule.get(side + "PortMultiple"):
            raise ParameterError("%s_port_type 'multiple' needs %s_port_multiple (e.g. ['80', '1000-2000'])"
                                 % (side, side), parameter="%s_port_multiple" % side)


def _comparable(camel, value):
    kind = None
    snake = CAMEL_TO_SNAKE.get(camel)
    if snake in FIELDS:
        kind = FIELDS[snake][1]
    if kind in UNORDERED:
        return sorted(str(item).lower() for item in (value or []))
    if kind == "str":
        return value or ""
    return value


def rule_differences(current, desired):
    """Fields of ``desired`` whose value differs in ``current``: {field: (current, desired)}."""
    changes = {}
    for camel, wanted in desired.items():
        have = current.get(camel)
        if _comparable(camel, have) != _comparable(camel, wanted):
            changes[camel] = (have, wanted)
    return changes


def to_snake(rule):
    """A DSM rule (camelCase) -> the snake_case form modules return."""
    out = {}
    for camel, value in rule.items():
        snake = CAMEL_TO_SNAKE.get(camel)
        if snake:
            out[snake] = value
    return out


def plan_rule(current, desired, state):
    """Decide what to do with one rule (keyed by name).

    ``current`` is the existing rule or None; ``desired`` the normalised fields. Returns a dict with
    ``action`` (create|update|delete|none), ``changes`` (the fields to send) and ``before``/``after``.
    """
    if state == "absent":
        if current is None:
            return dict(action="none", changes={}, before={}, after={})
        return dict(action="delete", changes={}, before=to_snake(current), after={})
    if current is None:
        check_consistency(desired)
        return dict(action="create", changes=dict(desired), before={}, after=to_snake(desired))
    differences = rule_differences(current, desired)
    if not differences:
        return dict(action="none", changes={}, before=to_snake(current), after=to_snake(current))
    after = dict(current)
    after.update(dict((field, wanted) for field, (_have, wanted) in differences.items()))
    check_consistency(after)
    return dict(action="update", changes=dict((field, wanted) for field, (_h, wanted) in differences.items()),
                before=to_snake(current), after=to_snake(after))


# -- whether traffic gets through: Deep Security's order of rules ----------------------------------------
#
# Deep Security Help (Deep Security 20), "Firewall rule actions and priorities": "Allow: Explicitly allows
# traffic that matches the rule to pass, and then implicitly denies everything else"; "Force Allow:
# Forcibly allows traffic that would otherwise be denied by other rules"; "Deny: Explicitly blocks traffic
# that matches the rule"; "Log only: Traffic will only be logged". "Control endpoint traffic using the
# firewall" (Deep Security 11 and later): actions "listed in order of precedence: Bypass, Log Only, Force
# Allow, Deny, Allow", priorities "between 4 (highest priority) to 0 (lowest priority). Within a specific
# priority level rules are processed in order based on the precedence of the action type", independently
# of their assignment order. So a deny of higher priority beats a force-allow of lower priority, and within
# one priority a force-allow beats a deny, which beats an allow.
ACTION_ORDER = ("bypass", "log-only", "force-allow", "deny", "allow")
PASSING_ACTIONS = ("bypass", "force-allow", "allow")
# How much of the traffic a rule matches: none of it, possibly part of it (limited by something the check
# cannot resolve: addresses, MACs, a port list, a schedule, a context, one IP version), or all of it.
MATCH_NONE, MATCH_SOME, MATCH_ALL = 0, 1, 2
MATCH_WORDS = {MATCH_SOME: "part", MATCH_ALL: "all"}
# EtherTypes of IPv4 and IPv6 (IEEE registry), for rules of frame type "other".
IP_ETHERTYPES = (0x0800, 0x86DD)
# IANA protocol number of UDP and TCP, for rules of protocol "other".
PROTOCOL_NUMBERS = {"udp": 17, "tcp": 6}


def _invert(match, inverted):
    if inverted is True or str(inverted).lower() == "true":
        return {MATCH_ALL: MATCH_NONE, MATCH_NONE: MATCH_ALL}.get(match, match)
    return match


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    try:
        text = str(value).strip()
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except (TypeError, ValueError):
        return None


def _frame_match(rule):
    """IP traffic (IPv4 or IPv6: Windows failover clustering communicates over both) against the frame type.
    "ip" is read as both IP versions, since the API offers "ipv4" and "ipv6" beside it."""
    kind = str(rule.get("frame_type") or "").lower()
    if kind in ("any", "ip"):
        match = MATCH_ALL
    elif kind in ("ipv4", "ipv6"):
        match = MATCH_SOME
    elif kind == "other":
        match = MATCH_SOME if _int_or_none(rule.get("frame_number")) in IP_ETHERTYPES else MATCH_NONE
    elif kind in FRAME_TYPES:
        match = MATCH_NONE
    else:
        match = MATCH_SOME
    return _invert(match, rule.get("frame_not"))


def _protocol_match(rule, protocol):
    kind = str(rule.get("protocol") or "").lower()
    if kind in ("any", protocol, "tcp-udp"):
        match = MATCH_ALL
    elif kind == "other":
        number = _int_or_none(rule.get("protocol_number"))
        match = MATCH_SOME if number is None else MATCH_ALL if number == PROTOCOL_NUMBERS[protocol] else MATCH_NONE
    elif kind in PROTOCOLS:
        match = MATCH_NONE
    else:
        match = MATCH_SOME
    return _invert(match, rule.get("protocol_not"))


def _port_list_covers(entries, port):
    """True / False, or None when an entry cannot be read."""
    for entry in entries if isinstance(entries, (list, tuple)) else str(entries or "").split(","):
        low, sep, high = str(entry).strip().partition("-")
        first, last = _int_or_none(low), _int_or_none(high) if sep else _int_or_none(low)
        if first is None or last is None:
            return None
        if first <= port <= last:
            return True
    return False


def _port_match(rule, side, port):
    """``port`` None: the packet's port on that side is not known, so any limit matches part of it."""
    kind = str(rule.get(side + "_port_type") or "any").lower()
    if kind == "any":
        match = MATCH_ALL
    elif kind == "multiple" and port is not None:
        covers = _port_list_covers(rule.get(side + "_port_multiple"), port)
        match = MATCH_SOME if covers is None else MATCH_ALL if covers else MATCH_NONE
    else:
        match = MATCH_SOME
    return _invert(match, rule.get(side + "_port_not"))


def _any_or_some(rule, field):
    """IP and MAC limits: the peers' addresses are not known here, so a limit matches part of the traffic."""
    match = MATCH_ALL if str(rule.get(field + "_type") or "any").lower() == "any" else MATCH_SOME
    return _invert(match, rule.get(field + "_not"))


def rule_match(rule, direction, protocol, port):
    """How much of the ``protocol`` traffic to destination ``port`` in ``direction`` the rule (snake_case,
    as ``to_snake`` gives it) matches: MATCH_NONE, MATCH_SOME or MATCH_ALL."""
    have = str(rule.get("direction") or "").lower()
    matches = [MATCH_ALL if have == direction else MATCH_NONE if have in DIRECTIONS else MATCH_SOME,
               _frame_match(rule), _protocol_match(rule, protocol),
               _port_match(rule, "destination", port), _port_match(rule, "source", None),
               _any_or_some(rule, "source_ip"), _any_or_some(rule, "destination_ip"),
               _any_or_some(rule, "source_mac"), _any_or_some(rule, "destination_mac")]
    # A schedule or a rule context makes a rule apply only at some times or in some situations.
    if _int_or_none(rule.get("schedule_id")) or _int_or_none(rule.get("context_id")):
        matches.append(MATCH_SOME)
    return min(matches)


def _priority(rule, passing):
    """The rule's priority 0-4; one that cannot be read counts as 4 for a rule that may deny and as 0 for
    one that lets traffic through (the safe side both ways)."""
    value = _int_or_none(rule.get("priority"))
    if value is not None and 0 <= value <= 4:
        return int(value)
    return 0 if passing else 4


def _summary(rule, match):
    return dict(id=rule.get("id"), name=rule.get("name"), action=rule.get("action"), priority=rule.get("priority"),
                matches=MATCH_WORDS.get(match, "none"))


def _label(rule):
    return "%r (ID %s, %s, priority %s)" % (rule.get("name"), rule.get("id"), rule.get("action"), rule.get("priority"))


def passage(rules, direction, protocol="udp", port=None):
    """Whether ``protocol`` traffic to destination ``port`` gets through in ``direction`` ("incoming" or
    "outgoing") under ``rules`` (snake_case rules in effect), in Deep Security's order of rules.

    It passes only when a bypass, force-allow or allow rule matches all of it before any rule that may
    deny any of it. A deny that matches part of it (limited by addresses, MACs, a schedule...) comes out as
    blocking: the check cannot tell which part. With no rule deciding it does not pass either: an Allow rule
    in effect for that direction denies it implicitly, and without one a later Allow rule would.

    Returns ``passes``, ``decided_by`` (the rule that lets it through), ``blocked_by`` (the rule that may
    deny it), ``partial`` (passing rules that match only part of it), ``allow_rules`` (whether an Allow rule
    may apply in that direction, so everything not allowed is denied) and ``reason``.
    """
    if direction not in DIRECTIONS:
        raise ParameterError("direction must be incoming or outgoing, got %r" % (direction,), parameter="direction")
    ordered = []
    for index, rule in enumerate(rules or []):
        match = rule_match(rule, direction, protocol, port)
        if match == MATCH_NONE:
            continue
        action = str(rule.get("action") or "").lower()
        # an action the DSM does not document may deny, and is taken before any other of its priority
        rank = ACTION_ORDER.index(action) if action in ACTION_ORDER else -1
        # highest priority first: 4 - priority runs from 0 (priority 4) to 4 (priority 0)
        ordered.append((4 - _priority(rule, action in PASSING_ACTIONS), rank, index, rule, match, action))
    ordered.sort(key=lambda item: item[:3])
    # An Allow rule denies everything it does not allow, whatever it matches itself.
    allow_rules = any(str(rule.get("action") or "").lower() == "allow"
                      and str(rule.get("direction") or direction).lower() == direction for rule in rules or [])
    partial = []
    what = "%s %s%s" % (direction, protocol.upper(), " %d" % port if port is not None else "")
    for _p, _r, _i, rule, match, action in ordered:
        if action == "log-only":
            continue
        if action in PASSING_ACTIONS:
            if match == MATCH_ALL:
                return dict(direction=direction, passes=True, decided_by=_summary(rule, match), blocked_by=None,
                            partial=partial, allow_rules=allow_rules,
                            reason="%s is let through by %s" % (what, _label(rule)))
            partial.append(_summary(rule, match))
            continue
        certain = match == MATCH_ALL
        reason = ("%s is %s by %s, which comes before every rule that lets all of it through"
                  % (what, "denied" if certain else "possibly denied (the rule is limited by addresses, ports, a "
                     "schedule or a context the check cannot resolve)", _label(rule)))
        if action not in ACTION_ORDER:
            reason = "%s may be denied by %s, whose action is not one the DSM documents" % (what, _label(rule))
        return dict(direction=direction, passes=False, decided_by=None, blocked_by=_summary(rule, match),
                    partial=partial, allow_rules=allow_rules, reason=reason)
    if allow_rules:
        reason = ("no rule lets %s through, and the Allow rules in effect for %s traffic deny everything they do "
                  "not allow" % (what, direction))
    else:
        reason = ("no rule lets %s through; it passes today only because no Allow rule is in effect for %s "
                  "traffic, and an Allow rule assigned later (here or in a parent policy) would deny it"
                  % (what, direction))
    if partial:
        reason += "; rules that let only part of it through: %s" % ", ".join(
            "%r (ID %s)" % (item["name"], item["id"]) for item in partial)
    return dict(direction=direction, passes=False, decided_by=None, blocked_by=None, partial=partial,
                allow_rules=allow_rules, reason=reason)
