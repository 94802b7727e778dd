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
