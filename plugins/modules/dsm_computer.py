#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dsm_computer
short_description: Set Deep Security settings and protection module states on computers or a policy
version_added: 0.1.0
description:
  - Sets DSM settings by name (for example C(firewallSettingNetworkEngineMode) to V(Tap) for a rollout,
    rule NLB-03) and protection module states (for example Intrusion Prevention V(off) on NLB nodes,
    rule NLB-01), on each computer named by host name or on one policy.
  - Compares with the values in effect and writes only what differs; a second identical run changes nothing.
  - Resets settings (O(reset_settings), or a null value in O(settings)) so that a computer follows its policy
    again instead of keeping a value of its own, for example after a window switched it to Tap (rule NLB-03).
  - Turning Firewall, Intrusion Prevention or Web Reputation on for a computer where it was off loads the
    agent's network driver the first time, which blips the network (Trend Micro KA-0004754). On a
    failover-cluster node with its cluster service running that fails the roles over (rule MS-02), so the
    module refuses such a change, before writing anything, unless O(allow_network_blip=true). The modules
    concerned are listed in RV(targets[].network_driver_modules).
extends_documentation_fragment:
  - clustersafe.deep_security.dsm
  - clustersafe.deep_security.action_group.dsm
attributes:
  check_mode:
    support: full
    description: Reports what would change, and changes nothing.
  diff_mode:
    support: full
    description: Module states and settings per computer or policy, before and after.
options:
  computers:
    description:
      - Host names of the computers. Mutually exclusive with O(policy).
    type: list
    elements: str
    aliases: [host_names]
  policy:
    description:
      - Name or ID of a policy. Mutually exclusive with O(computers).
    type: str
  settings:
    description:
      - DSM settings by their API name and the value wanted, for example
        C(firewallSettingNetworkEngineMode) V(Tap). Values are strings as the DSM stores them; booleans
        become V(true)/V(false).
      - C(firewallSettingNetworkEngineMode) takes V(Inline) or V(Tap); other names and values are checked
        by the DSM, whose message is returned.
      - A null value resets the setting, as O(reset_settings) does.
    type: dict
  reset_settings:
    description:
      - DSM settings by their API name to reset, so that each computer (or the policy) follows the value of
        its policy (or parent policy) again; the object's own value is removed (SDK 20.0
        C(reset_computer_setting), C(DELETE /computers/{id}/settings/{name})).
      - Compared with the object's own value (the DSM's C(overrides=true) view), so an object without a value of
        its own is no change and a second run changes nothing.
      - A name must not also have a value in O(settings).
    type: list
    elements: str
  modules:
    description:
      - Protection module states by module name, for example C(Intrusion Prevention) V(off).
      - "Module names: Anti-Malware, Web Reputation, Firewall, Intrusion Prevention (also IPS, DPI or
        Deep Packet Inspection), Integrity Monitoring, Log Inspection, Application Control; snake_case
        (C(intrusion_prevention)) and the API's camelCase are accepted too."
      - "States: V(on), V(off), V(inherited) (from the policy); Intrusion Prevention takes V(prevent),
        V(detect), V(off), V(inherited); Integrity Monitoring also V(real-time)."
    type: dict
  allow_network_blip:
    description:
      - Allow a change that turns Firewall, Intrusion Prevention or Web Reputation on for a computer where
        it was off, which loads the agent's network driver and blips the network.
      - Set it once the cluster service of a failover-cluster node is stopped
        (M(clustersafe.deep_security.mscs_node) O(clustersafe.deep_security.mscs_node#module:state=stopped)),
        or for computers that are not cluster nodes.
    type: bool
    default: false
  wait:
    description:
      - After changing computers, wait until each changed computer's agent has the new policy, that is agent
        status active, no agent task pending, and a successful policy send (C(lastSendPolicySuccess)) at or after
        the last policy request and later than the one read before the change (RV(targets[].policy_sent_before)).
        Only the DSM's timestamps are compared.
      - In agent-initiated communication the DSM sends the policy at the agent's next heartbeat, and the
        network driver loads when the policy arrives; the module returns only once that has happened, so
        the cluster service is not started before the blip (rule MS-02).
      - Computers whose agent was not active before the change are not waited for (a warning names them), except
        an agent in status C(warning), which may be online and get the policy at any moment; it is waited for,
        and the wait ends once it is active with the policy or at O(wait_timeout).
        Policy changes are not waited for; use M(clustersafe.deep_security.dsm_computer_info) with
        O(clustersafe.deep_security.dsm_computer_info#module:wait_for=policy_applied) and
        O(clustersafe.deep_security.dsm_computer_info#module:since_policy_success) on the computers concerned.
      - Check mode and runs that change nothing do not wait.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait at most (see O(wait)); then the task fails and says which computers still wait for
        what. Allow at least one heartbeat interval (C(platformSettingHeartbeatInterval), ten minutes by default).
    type: int
    default: 900
author:
  - clustersafe maintainers (@clustersafe)
"""

EXAMPLES = r"""
- name: NLB rollout - Tap mode first, and no Intrusion Prevention on NLB nodes
  clustersafe.deep_security.dsm_computer:
    computers: [WEB1, WEB2, WEB3]
    settings:
      firewallSettingNetworkEngineMode: Tap
    modules:
      Intrusion Prevention: "off"

- name: Firewall on for a cluster node whose cluster service is stopped; returns once the agent has the policy
  clustersafe.deep_security.dsm_computer:
    computers: [SQL-NODE1]
    modules:
      Firewall: "on"
    allow_network_blip: true
    wait_timeout: 900

- name: Back to Inline once the exclusions are proven
  clustersafe.deep_security.dsm_computer:
    policy: NLB Web Farm
    settings:
      firewallSettingNetworkEngineMode: Inline

- name: After the window, the computers follow their policy's mode again (no value of their own)
  clustersafe.deep_security.dsm_computer:
    computers: [WEB1, WEB2, WEB3]
    reset_settings: [firewallSettingNetworkEngineMode]
"""

RETURN = r"""
targets:
  description: One entry per computer or policy.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: C(computer) or C(policy).
      type: str
    id:
      description: ID of the computer or policy.
      type: int
    name:
      description: Host name or policy name.
      type: str
    changed:
      description: Whether this computer or policy was (or would be) changed.
      type: bool
    modules:
      description: Per module name, C(before) and C(after) states.
      type: dict
      sample: {"Intrusion Prevention": {"before": "prevent", "after": "off"}}
    settings:
      description:
        - Per setting, C(before) and C(after) values. For a setting set to a value, the values in effect; for a
          reset, C(before) is the object's own value (null when it had none) and C(after) is null.
      type: dict
      sample: {"firewallSettingNetworkEngineMode": {"before": "Inline", "after": "Tap"}}
    network_driver_modules:
      description:
        - Modules turned on from off, which load the agent's network driver the first time. A module set
          back to V(inherited) counts when its policy turns it on.
      type: list
      elements: str
    policy_applied:
      description:
        - For a changed computer that was waited for, whether its agent has the new policy (always true on
          success); null when not waited for (policy, unchanged, check mode, O(wait=false), no active agent).
      type: bool
    policy_sent_at:
      description: The computer's C(lastSendPolicySuccess) after the wait, milliseconds since the epoch.
      type: int
      returned: when waited for
    policy_sent_before:
      description:
        - The computer's C(lastSendPolicySuccess) read before the change (DSM clock, milliseconds since the epoch);
          null when no policy had been sent to it.
        - Pass it as O(clustersafe.deep_security.dsm_computer_info#module:since_policy_success) to wait for the
          policy elsewhere.
      type: int
      returned: for computers
changed_at:
  description:
    - Time of the first write, milliseconds since the epoch on the controller's clock, for the record; null when
      nothing was written. No wait compares it with the DSM's timestamps.
  returned: always
  type: int
  sample: 1764150000000
waited_seconds:
  description: Seconds spent waiting for the policy to reach the computers.
  returned: always
  type: int
  sample: 12
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.module import DsmModule


def main():
    module = DsmModule(
        argument_spec=dict(
            computers=dict(type="list", elements="str", aliases=["host_names"]),
            policy=dict(type="str"),
            settings=dict(type="dict"),
            reset_settings=dict(type="list", elements="str"),
            modules=dict(type="dict"),
            allow_network_blip=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=900),
        ),
        mutually_exclusive=[["computers", "policy"]],
        required_one_of=[["computers", "policy"], ["settings", "reset_settings", "modules"]],
    )
    params = module.params
    module.run_with_client(lambda client: service.computer_settings(
        client, computers=params["computers"], policy=params["policy"],
        settings=params["settings"], modules=params["modules"], check_mode=module.check_mode,
        reset_settings=params["reset_settings"],
        allow_network_blip=params["allow_network_blip"], wait=params["wait"], wait_timeout=params["wait_timeout"]))


if __name__ == "__main__":
    main()
