# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall rule specs that keep Microsoft NLB traffic from being judged by the Deep Security
firewall (rules NLB-02 and NLB-03), built from what ``nlb_cluster_info`` reports. Pure: no I/O.

What is vendor-documented and what is inference (see docs/dsm.md, "NLB exclusion rules"):
- documented: NLB delivers the cluster's traffic to every host (Microsoft NLB technical overview);
  "Invalid Flags" (firewall event 101) means TCP flags that make no sense in the context of a connection,
  assessed by stateful inspection (Deep Security Help, "Firewall events"); a bypass rule skips the
  firewall, stateful inspection and Intrusion Prevention, force-allow is still inspected by Intrusion
  Prevention; bypass rules come in pairs (Deep Security Help, "Firewall rule actions and priorities");
  NLB heartbeats are Ethernet frames of EtherType 0x886F (Microsoft NLB docs).
- documented: in IGMP multicast mode "each Network Load Balancing cluster node periodically sends an IGMP
  Join message" for the cluster's multicast group (239.255.x.y, the last two octets of the virtual IP), and an
  IGMP-snooping switch passes the cluster's packets "only to those ports that have an attached Network Load
  Balancing cluster node" (Microsoft KB 283028, "IGMP Support for Network Load Balancing"), so a host whose
  firewall drops its outgoing IGMP stops receiving the cluster's traffic;
- documented: a port rule applies to one virtual IP or to all of them (``Get-NlbClusterPortRule``
  ``VirtualIPAddress``; "All" is 255.255.255.255), so each virtual IP gets the ports of its own rules and of
  the rules for all;
- inference: that the events come from the virtual IP's TCP traffic owned by another host, so the
  virtual-IP bypass pairs are what stops them; that a rule of frame type "other" with EtherType 0x886F
  matches the heartbeat frames (Trend's docs describe frame types but no source names the NLB heartbeat).
  Heartbeat frames carry no TCP flags, so they cannot cause event 101; the heartbeat rule only keeps them
  from any non-IP frame filtering, and its action is the caller's choice (``heartbeat_action``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError

NLB_HEARTBEAT_ETHERTYPE = 0x886F
EXTRA_PROTOCOLS = ("dhcp", "dns", "arp", "igmp")
# Get-NlbCluster's Mode when hosts join the cluster's multicast group with IGMP.
IGMP_MODE = "igmpmulticast"
ALL_VIPS = ("all", "255.255.255.255")
HEARTBEAT_ACTIONS = ("bypass", "force-allow", "none")
PRIORITY = "4"
_NLB_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "both": "tcp-udp"}


def _pick(document, *names):
    """First present key among snake_case / PascalCase spellings (the info module returns snake_case;
    raw ``Get-NlbCluster`` objects are PascalCase)."""
    if not isinstance(document, dict):
        return None
    for name in names:
        if document.get(name) not in (None, ""):
            return document[name]
    return None


def _clusters(info):
    """Accept the whole ``nlb_cluster_info`` result, its ``cluster`` part, or a list of either."""
    if isinstance(info, (list, tuple)):
        out = []
        for item in info:
            out.extend(_clusters(item))
        return out
    if not isinstance(info, dict):
        raise ParameterError("nlb_exclusion_rules expects the result of nlb_cluster_info (a dict), got %s"
                             % type(info).__name__)
    if isinstance(info.get("clusters"), list):
        return _clusters(info["clusters"])
    cluster = info.get("cluster") if isinstance(info.get("cluster"), dict) else info
    port_rules = _pick(info, "port_rules", "PortRules") or _pick(cluster, "port_rules", "PortRules") or []
    name = _pick(cluster, "name", "Name", "cluster_name")
    if not name:
        raise ParameterError("nlb_exclusion_rules: the NLB cluster has no name (expected cluster.name from "
                             "nlb_cluster_info)")
    extra = _pick(info, "virtual_ips", "VirtualIPs") or _pick(cluster, "virtual_ips", "VirtualIPs") or []
    return [dict(
        name=str(name),
        ip_address=_pick(cluster, "ip_address", "virtual_ip", "IPAddress", "vip"),
        mode=_pick(cluster, "mode", "Mode", "OperationMode"),
        port_rules=list(port_rules),
        virtual_ips=[str(item) for item in (extra if isinstance(extra, (list, tuple)) else [extra])],
    )]


def _vip_ports(cluster):
    """{virtual IP: {protocol: [port text]}} from the port rules: a rule for one virtual IP covers that
    address, a rule for all of them covers the cluster IP and every other virtual IP known (named by a port
    rule, or listed in ``virtual_ips``). Virtual IPs in the order first seen, the cluster IP first."""
    vip = cluster["ip_address"]
    known = [str(vip)]
    for port_rule in cluster["port_rules"]:
        address = _pick(port_rule, "ip_address", "IPAddress", "VirtualIPAddress")
        if address and str(address).lower() not in ALL_VIPS and str(address) not in known:
            known.append(str(address))
    for address in cluster["virtual_ips"]:
        if address.lower() not in ALL_VIPS and address not in known:
            known.append(address)
    out = dict((address, {}) for address in known)
    for port_rule in cluster["port_rules"]:
        raw = str(_pick(port_rule, "protocol", "Protocol") or "both").lower()
        protocol = _NLB_PROTOCOLS.get(raw)
        if protocol is None:
            raise ParameterError("nlb_exclusion_rules: port rule protocol %r; expected Tcp, Udp or Both" % raw)
        address = _pick(port_rule, "ip_address", "IPAddress", "VirtualIPAddress")
        targets = known if not address or str(address).lower() in ALL_VIPS else [str(address)]
        for target in targets:
            ports = out[target].setdefault(protocol, [])
            text = _port_text(port_rule)
            if text not in ports:
                ports.append(text)
    return [(address, out[address]) for address in known if out[address]]


def _port_text(rule):
    start = _pick(rule, "start_port", "StartPort")
    end = _pick(rule, "end_port", "EndPort")
    if start is None:
        raise ParameterError("nlb_exclusion_rules: a port rule has no start_port: %r" % (rule,))
    start = int(start)
    end = int(end) if end is not None else start
    return str(start) if start == end else "%d-%d" % (start, end)


def _pair(prefix, label, description, action, fields_in, fields_out):
    rules = []
    for direction, fields in (("incoming", fields_in), ("outgoing", fields_out)):
        rule = dict(name="%s %s (%s)" % (prefix, label, direction), description=description, action=action,
                    priority=PRIORITY, direction=direction)
        rule.update(fields)
        rules.append(rule)
    return rules


def exclusion_rules(info, virtual_ip=False, protocols=None, name_prefix="clustersafe", heartbeat_action="bypass"):
    """Rule specs (snake_case, as ``dsm_firewall_rule`` takes them) for every NLB cluster in ``info``.

    ``heartbeat_action``: the NLB heartbeat (EtherType 0x886F, frame type ``other``) as a ``bypass`` or
    ``force-allow`` pair, or ``none`` for no heartbeat rule.
    ``virtual_ip``: bypass pairs for the cluster IP and every other virtual IP of the port rules, limited to
    the ports and protocols of the rules that cover each (``_vip_ports``).
    ``protocols``: any of ``dhcp``, ``dns``, ``arp``: force-allow pairs (NLB-03); ``igmp``: the IGMP rule.
    A cluster in IGMP multicast mode always gets the IGMP rule: a force-allow for its hosts' outgoing IGMP.
    Names are deterministic so a rerun finds and keeps the same rules.
    """
    action = str(heartbeat_action).strip().lower()
    if action not in HEARTBEAT_ACTIONS:
        raise ParameterError("nlb_exclusion_rules: invalid heartbeat_action %r; allowed values: %s"
                             % (heartbeat_action, ", ".join(HEARTBEAT_ACTIONS)), parameter="heartbeat_action")
    protocols = [str(item).strip().lower() for item in (protocols or [])]
    for item in protocols:
        if item not in EXTRA_PROTOCOLS:
            raise ParameterError("nlb_exclusion_rules: unknown protocol %r in protocols; allowed values: %s"
                                 % (item, ", ".join(EXTRA_PROTOCOLS)), parameter="protocols")
    rules = []
    for cluster in _clusters(info):
        prefix = "%s NLB %s" % (name_prefix, cluster["name"])
        if action != "none":
            rules.extend(_pair(
                prefix, "heartbeat %s" % action,
                "NLB heartbeat frames (EtherType 0x886F) reach every host of cluster %s; %s keeps them from being "
                "denied by the firewall (NLB-02). They carry no TCP flags, so they are not what logs Invalid Flags."
                % (cluster["name"], action),
                action,
                dict(frame_type="other", frame_number=NLB_HEARTBEAT_ETHERTYPE),
                dict(frame_type="other", frame_number=NLB_HEARTBEAT_ETHERTYPE)))
        if virtual_ip:
            if not cluster["ip_address"]:
                raise ParameterError("nlb_exclusion_rules: virtual_ip=true but cluster %s has no ip_address"
                                     % cluster["name"], parameter="virtual_ip")
            for vip, by_protocol in _vip_ports(cluster):
                for protocol in sorted(by_protocol):
                    ports = sorted(by_protocol[protocol], key=lambda text: int(text.split("-")[0]))
                    rules.extend(_pair(
                        prefix, "VIP %s %s bypass" % (vip, protocol),
                        "Traffic for the NLB virtual IP %s on %s ports %s is delivered to every host, which judges "
                        "the connections other hosts own (Invalid Flags); bypass skips firewall, stateful inspection "
                        "and Intrusion Prevention for it." % (vip, protocol, ",".join(ports)),
                        "bypass",
                        dict(frame_type="ip", protocol=protocol, destination_ip_type="single", destination_ip_value=vip,
                             destination_port_type="multiple", destination_port_multiple=ports),
                        dict(frame_type="ip", protocol=protocol, source_ip_type="single", source_ip_value=vip,
                             source_port_type="multiple", source_port_multiple=ports)))
        if "igmp" in protocols or str(cluster["mode"] or "").replace(" ", "").lower() == IGMP_MODE:
            rules.append(dict(
                name="%s IGMP force-allow (outgoing)" % prefix, action="force-allow", priority=PRIORITY,
                direction="outgoing", frame_type="ip", protocol="igmp",
                description="In IGMP multicast mode each host of cluster %s periodically sends IGMP Join messages "
                            "for the cluster's multicast group, so that IGMP-snooping switches pass it the cluster's "
                            "traffic (Microsoft KB 283028); force-allow keeps an Allow or deny rule from dropping "
                            "them." % cluster["name"]))
        if "dhcp" in protocols:
            rules.extend(_pair(
                prefix, "DHCP force-allow",
                "DHCP (UDP 67/68) force-allowed: still inspected by Intrusion Prevention (NLB-03).",
                "force-allow",
                dict(frame_type="ip", protocol="udp", destination_port_type="multiple", destination_port_multiple=["68"]),
                dict(frame_type="ip", protocol="udp", destination_port_type="multiple", destination_port_multiple=["67"])))
        if "dns" in protocols:
            rules.extend(_pair(
                prefix, "DNS force-allow",
                "DNS (TCP/UDP 53) replies and queries force-allowed: still inspected by Intrusion Prevention (NLB-03).",
                "force-allow",
                dict(frame_type="ip", protocol="tcp-udp", source_port_type="multiple", source_port_multiple=["53"]),
                dict(frame_type="ip", protocol="tcp-udp", destination_port_type="multiple",
                     destination_port_multiple=["53"])))
        if "arp" in protocols:
            rules.extend(_pair(
                prefix, "ARP force-allow",
                "ARP force-allowed both ways so NLB's shared cluster MAC never loses address resolution (NLB-03).",
                "force-allow", dict(frame_type="arp"), dict(frame_type="arp")))
    return rules


def is_heartbeat_exclusion(rule):
    """True for a DSM rule (camelCase) that bypasses the NLB heartbeat in its direction."""
    return (rule.get("action") == "bypass" and rule.get("frameType") == "other"
            and int(rule.get("frameNumber") or 0) == NLB_HEARTBEAT_ETHERTYPE and not rule.get("frameNot"))
